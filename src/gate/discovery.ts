// The discovery document: what a gate sells, by which doors, at what price, before any 402.
// Its shape follows the L402 discovery manifest (lightninglabs/L402, discovery-spec.md §5) where
// it fits; what only powgate has (proof of work, seconds per call) is under `powgate`.
import { PowgateError } from '../errors.js';
import { DIFFICULTY_STEPS } from '../protocol/difficulty.js';
import { isScope } from '../protocol/shape.js';
import { invalid } from '../validate.js';
import type { Gate } from './gate.js';

/** Where the discovery document is served (RFC 8615 well-known URI; L402 discovery spec §5.1). */
export const DISCOVERY_PATH = '/.well-known/l402.json';

/** The link relation that points at the discovery document (L402 discovery spec §5.1): `Link: <...>; rel="l402-manifest"`. */
export const DISCOVERY_LINK_REL = 'l402-manifest';

/** The `Link` header value that points at the document at `href` (default {@link DISCOVERY_PATH}). */
export function discoveryLink(href: string = DISCOVERY_PATH): string {
  return `<${href}>; rel="${DISCOVERY_LINK_REL}"`;
}

/** The version of the L402 manifest schema the document follows. */
const DISCOVERY_VERSION = '1.0';

/** A gated entry point: which door (scope) it is behind, and its HTTP method and path (or an MCP tool). */
export interface DiscoveryResource {
  /** The door. */
  scope: string;
  /** HTTP method. Default 'GET' when `path` is given. */
  method?: string;
  /** Path (template) of the resource. */
  path?: string;
  /** An MCP tool's name, for a gated tool. */
  tool?: string;
}

/** The hash rate prices are stated in seconds at: a measured machine, never a guess. */
export interface ReferenceHardware {
  /** Hashes per second of the whole solver on that machine (e.g. `powgate calibrate --json`'s `solver.hashesPerSecond`). */
  hashesPerSecond: number;
  /** What the machine is, in words (CPU, threads, backend). */
  machine: string;
}

/** Options of {@link discoveryDocument}. */
export interface DiscoveryOptions {
  /** The provider's name. Default 'powgate'. */
  name?: string;
  /** The provider's canonical base URI. Default: none (the document's paths are origin-relative). */
  uri?: string;
  /** More gated entry points, by door, besides those the gate recorded (Gate.resource). Default: none; a door without any is listed with a resource without path. */
  resources?: readonly DiscoveryResource[];
  /** Where clients ask for challenges, redeem solutions and check tokens (origin-relative or absolute). Default: none (an MCP server names tools instead). */
  endpoints?: { challenge?: string; redeem?: string; tokenVerify?: string };
  /** MCP tools that sell calls, instead of endpoints. Default: none. */
  tools?: { challenge: string; verify: string; status?: string };
  /** The machine `seconds_per_call` is stated for. Default: none, and every `seconds_per_call` is null. */
  reference?: ReferenceHardware;
}

/** A door's proof-of-work price: bits per call, at the base and at the most adaptive pricing reaches. */
interface WorkDoor {
  method: 'pow';
  difficulty: number;
  price_bits: number;
  price_bits_max: number;
  seconds_per_call: number | null;
  seconds_per_call_max: number | null;
}

/** The document; see docs/HTTP.md ("Discovery"). */
export interface DiscoveryDocument {
  version: string;
  provider: { name: string; uri?: string };
  currencies: string[];
  macaroon_versions?: number[];
  payment_methods: string[];
  services: {
    name: string;
    description: string;
    resources: {
      method?: string;
      path?: string;
      pricing: { model: 'fixed'; price_msat: number } | { model: 'dynamic' };
      powgate: { scope: string; tool?: string; doors: DoorPrices };
    }[];
  }[];
  powgate: Record<string, unknown>;
}

/** A door's doors and prices, as the discovery document lists them (also a gated MCP tool's `_meta`). */
export type DoorPrices = (WorkDoor | { method: 'l402'; sats: number })[];

/**
 * How calls are sold at the door `scope`: proof of work (difficulty; bits of work per call at
 * the base and at the most adaptive pricing reaches; expected seconds on `reference`, or null)
 * and, with a Lightning door, sats per call. Throws for a scope that is not a door.
 */
export function doorPrices(gate: Gate, scope: string, reference?: ReferenceHardware): DoorPrices {
  const door = gate.doors().find((entry) => entry.scope === scope);
  if (!door) throw invalid('a declared scope', 'scope', scope);
  const headroom = gate.difficulty.max - gate.difficulty.base;
  const rate = reference?.hashesPerSecond;
  const seconds = (bits: number) => (rate === undefined ? null : roughly(2 ** bits / rate));
  const maxBits = Math.round((door.price + headroom) * DIFFICULTY_STEPS) / DIFFICULTY_STEPS;
  const prices: DoorPrices = [
    { method: 'pow', difficulty: door.difficulty, price_bits: door.price, price_bits_max: maxBits, seconds_per_call: seconds(door.price), seconds_per_call_max: seconds(maxBits) },
  ];
  if (door.sats !== undefined) prices.push({ method: 'l402', sats: door.sats });
  return prices;
}

/** A whole-second figure to 3 significant digits (seconds of work are an expectation, not a promise). */
function roughly(seconds: number): number {
  return Number(seconds.toPrecision(3));
}

/** Checks the options a programmer gave; every field is optional. */
function checkOptions(options: DiscoveryOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('an options object', 'options', options);
  const ref = options.reference;
  if (ref !== undefined) {
    if (typeof ref !== 'object' || ref === null || !(typeof ref.hashesPerSecond === 'number' && ref.hashesPerSecond > 0 && Number.isFinite(ref.hashesPerSecond))) {
      throw invalid('{ hashesPerSecond: a positive number, machine }', 'reference', ref);
    }
    if (typeof ref.machine !== 'string' || ref.machine === '') throw invalid('a description of the machine', 'reference.machine', ref.machine);
  }
  for (const r of options.resources ?? []) checkResource(r);
}

/** Checks a {@link DiscoveryResource} given by the programmer (its scope is checked against the doors elsewhere). */
export function checkResource(r: DiscoveryResource): void {
  if (!isScope(r?.scope)) throw invalid('printable ASCII of at most 256 characters', 'resource.scope', r?.scope);
  if (r.path !== undefined && (typeof r.path !== 'string' || !/^\/\S{0,1024}$/.test(r.path))) throw invalid('a path starting with /', 'resource.path', r.path);
  if (r.method !== undefined && (typeof r.method !== 'string' || !/^[A-Z]{1,16}$/.test(r.method))) throw invalid('an upper-case HTTP method', 'resource.method', r.method);
  if (r.tool !== undefined && (typeof r.tool !== 'string' || r.tool === '')) throw invalid('a tool name', 'resource.tool', r.tool);
}

/**
 * The gate's discovery document: each door (scope) as a service whose resources carry its
 * price, in msat where a Lightning door sells it (L402's `fixed` pricing) and in bits of
 * work otherwise (`dynamic`: adaptive pricing raises it with a client's rate), with the
 * expected seconds a call costs on `reference` hardware, or null without one. Secret-free and
 * the same for every client: cache it. Throws a PowgateError `ERR_INVALID_ARGUMENT` when a
 * resource names a scope that is not one of the gate's doors.
 */
export function discoveryDocument(gate: Gate, options: DiscoveryOptions = {}): DiscoveryDocument {
  checkOptions(options);
  const doors = gate.doors();
  const known = new Set(doors.map((door) => door.scope));
  const all = [...gate.resources(), ...(options.resources ?? [])];
  for (const r of all) {
    if (!known.has(r.scope))
      throw new PowgateError('ERR_INVALID_ARGUMENT', `resource ${r.method ?? ''} ${r.path ?? r.tool ?? ''} names scope "${r.scope}", which is not a door of this gate`);
  }
  const d = gate.difficulty;
  const rate = options.reference?.hashesPerSecond;
  const services = doors.map((door) => {
    const doorList = doorPrices(gate, door.scope, options.reference);
    const pricing = door.sats === undefined ? { model: 'dynamic' as const } : { model: 'fixed' as const, price_msat: door.sats * 1000 };
    const entries = all.filter((r) => r.scope === door.scope);
    const resources = (entries.length > 0 ? entries : [{ scope: door.scope }]).map((r: DiscoveryResource) => ({
      ...(r.path === undefined ? {} : { method: r.method ?? 'GET', path: r.path }),
      pricing,
      powgate: { scope: door.scope, ...(r.tool === undefined ? {} : { tool: r.tool }), doors: doorList },
    }));
    const what = door.scope === '' ? 'the default door' : `the door "${door.scope}"`;
    return { name: door.scope === '' ? 'default' : door.scope, description: `calls sold at ${what}`, resources };
  });
  const lightning = gate.lightning !== undefined;
  const endpoints = options.endpoints;
  return {
    version: DISCOVERY_VERSION,
    provider: { name: options.name ?? 'powgate', ...(options.uri === undefined ? {} : { uri: options.uri }) },
    currencies: ['msat'],
    ...(lightning ? { macaroon_versions: [0] } : {}),
    payment_methods: lightning ? ['bolt11'] : [],
    services,
    powgate: {
      doors: ['pow', ...(gate.aperturePow ? ['l402-pow'] : []), ...(lightning ? ['l402'] : [])],
      ...(endpoints
        ? {
            challenge_endpoint: endpoints.challenge && { method: 'POST', url: endpoints.challenge, body: { scope: '<door>', calls: '<N>' } },
            redeem_endpoint: endpoints.redeem && { method: 'POST', url: endpoints.redeem },
            token_verify_endpoint: endpoints.tokenVerify && { method: 'POST', url: endpoints.tokenVerify },
          }
        : {}),
      ...(options.tools ? { tools: options.tools } : {}),
      present: { header: 'Authorization', value: 'Bearer <token>', l402: 'Authorization: L402 <macaroon>:<preimage hex>' },
      adaptive: { base: d.base, min: d.min, max: d.max, free_requests: d.freeRequests, window_ms: d.windowMs },
      sub_puzzles: gate.subPuzzles,
      calls: { default: gate.calls, max: gate.maxCalls, cost: 'N calls cost N times the work of one (log2(N) more bits)' },
      challenge_ttl_seconds: gate.challengeTtlMs / 1000,
      token_ttl_seconds: gate.tokenTtlMs / 1000,
      reference_hardware: options.reference ? { hashes_per_second: options.reference.hashesPerSecond, machine: options.reference.machine } : null,
      seconds_per_call_means:
        rate === undefined
          ? 'null: no reference hash rate was given'
          : "expected seconds on the reference machine: 2^price_bits hashes at its rate; a client's own machine differs",
    },
  };
}
