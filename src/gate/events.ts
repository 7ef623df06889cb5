// What a Gate tells its observers (metrics, logs): each step of the funnel a client walks, from
// the first refusal to the last paid call, and every time the gate serves in a degraded way.
// Transport-free: the channel is a label the layer above passes down, never worked out here.

/**
 * Where a request came from, as the layers above classify it (see powgate/http's
 * `classifyChannel` and powgate/mcp's `mcpChannel`): `api` (a program over HTTP), `mcp_http`
 * (an MCP client over Streamable HTTP), `mcp_stdio` (an MCP client over stdio), `bot` (a known
 * crawler or scanner), `browser` (a web browser).
 */
export const CHANNELS = ['api', 'mcp_http', 'mcp_stdio', 'bot', 'browser'] as const;

/** One of {@link CHANNELS}, or an operator's own name (lowercase letters, digits and `_`, at most 32). */
export type Channel = (typeof CHANNELS)[number] | (string & {});

/** The channel of gate calls that do not say: a program calling the gate directly. */
export const DEFAULT_CHANNEL = 'api';

const CHANNEL_SHAPE = /^[a-z][a-z0-9_]{0,31}$/;

/** Whether `value` may be a channel label: one of {@link CHANNELS} or an operator's own name of that shape. */
export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && CHANNEL_SHAPE.test(value);
}

/** How a call was paid for: proof of work (ours or Aperture's dialect) or Lightning (L402). */
export type DoorKind = 'work' | 'lightning';

/**
 * The funnel's stages:
 * - `refused`: a call, a redemption or a request for a challenge was refused (`step` says which, `reason` why);
 * - `challenge_issued`: a challenge (door `work`) or an invoice (door `lightning`) was offered;
 * - `redeemed`: a solution (or a paid invoice) bought a token; `seconds` from the challenge's issue;
 * - `paid_call`: a call spent one of a token's calls and went through;
 * - `allowance_exhausted`: that call was the token's last;
 * - `degraded`: the gate served in a degraded way (`degraded` says how).
 */
export const GATE_STAGES = ['refused', 'challenge_issued', 'redeemed', 'paid_call', 'allowance_exhausted', 'degraded'] as const;
export type GateStage = (typeof GATE_STAGES)[number];

/** Where in the funnel a refusal happened. */
export type RefusedStep = 'call' | 'challenge' | 'redeem';

/**
 * The ways a gate can serve degraded, each said in responses (`Powgate-Degraded`), in status and
 * counted in metrics:
 * - `backend_wasm` / `backend_js`: proofs are checked without the native addon (slower);
 * - `fail_open`: the store could not answer and the gate let calls through uncounted (replays possible);
 * - `lightning_unavailable`: the Lightning node failed: refusals offer proof of work only;
 * - `replay_per_instance`: a memory store: several instances behind one address each accept a solution once.
 */
export const DEGRADATIONS = ['backend_wasm', 'backend_js', 'backend_unavailable', 'fail_open', 'lightning_unavailable', 'replay_per_instance'] as const;
export type Degradation = (typeof DEGRADATIONS)[number];

/**
 * One step of the funnel. `scope` is a declared door's scope, or `(other)` for a scope the
 * gate has no door for (a client's invention: never a label of unbounded values).
 */
export interface GateEvent {
  stage: GateStage;
  scope: string;
  door: DoorKind;
  channel: Channel;
  /** For `refused`: at which step. */
  step?: RefusedStep;
  /** For `refused`: the reason (a refusal reason, `token_required`, or a challenge refusal). */
  reason?: string;
  /** For `redeemed` through proof of work: seconds from the challenge's signed issue time to its redemption. */
  seconds?: number;
  /** For `degraded`: how. */
  degraded?: Degradation;
}

/** Told of every {@link GateEvent}; must not throw (what it throws is dropped). */
export type GateObserver = (event: GateEvent) => void;

/** The scope label for a scope the gate has no door for. */
export const OTHER_SCOPE = '(other)';
