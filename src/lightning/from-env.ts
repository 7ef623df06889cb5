import { readFileSync, statSync } from 'node:fs';
import { PowgateError } from '../errors.js';
import type { LightningBackend } from './backend.js';
import { checkApiKey, LnbitsBackend } from './lnbits.js';
import { checkMacaroon, LndRestBackend } from './lnd-rest.js';
import { checkNodeUrl, checkPemCertificate } from './node-request.js';

const lndVariables = (prefix: string) => [`${prefix}_URL`, `${prefix}_MACAROON`, `${prefix}_MACAROON_FILE`, `${prefix}_TLS_CERT_FILE`];
const LNBITS_VARIABLES = ['POWGATE_LNBITS_URL', 'POWGATE_LNBITS_KEY', 'POWGATE_LNBITS_KEY_FILE'];
const MAX_FILE_BYTES = 64 * 1024;

/** Options of lightningFromEnv. */
export interface LightningFromEnvOptions {
  /** Longest a call may wait for the node, in ms from 1 to 60,000. Default 2000. */
  timeoutMs?: number;
}

type Env = Record<string, string | undefined>;

/**
 * The Lightning backend configured in the environment, credentials read only from
 * variables or files; undefined when none is. An empty variable counts as unset.
 *
 * - LND: `POWGATE_LND_URL`, plus `POWGATE_LND_MACAROON` (hex) or
 *   `POWGATE_LND_MACAROON_FILE` (the binary macaroon, or its hex), plus optionally
 *   `POWGATE_LND_TLS_CERT_FILE` (PEM, for LND's self-signed certificate).
 * - LNbits: `POWGATE_LNBITS_URL`, plus `POWGATE_LNBITS_KEY` or `POWGATE_LNBITS_KEY_FILE`
 *   (the invoice key; surrounding whitespace is trimmed).
 *
 * Throws a PowgateError `ERR_INVALID_ENV` naming the variable (never its secret) when a
 * configuration is incomplete, ambiguous (both nodes, or a value and its file) or
 * invalid, or a file cannot be read.
 */
export function lightningFromEnv(env: Env = process.env, options: LightningFromEnvOptions = {}): LightningBackend | undefined {
  const get = (name: string) => (env[name] === '' ? undefined : env[name]);
  const lnd = lndVariables('POWGATE_LND').some((name) => get(name) !== undefined);
  const lnbits = LNBITS_VARIABLES.some((name) => get(name) !== undefined);
  if (lnd && lnbits) throw envError('both POWGATE_LND_* and POWGATE_LNBITS_* variables are set: configure one Lightning node only');
  if (lnd) return new LndRestBackend({ ...lndSettings(get, 'POWGATE_LND'), timeoutMs: options.timeoutMs });
  if (lnbits) {
    const url = required(get, 'POWGATE_LNBITS_URL', 'POWGATE_LNBITS_*');
    fromVariable(() => checkNodeUrl(url, 'POWGATE_LNBITS_URL'));
    const invoiceKey = oneOf(
      get,
      'POWGATE_LNBITS_KEY',
      (text) => checkApiKey(text, 'POWGATE_LNBITS_KEY'),
      (path) => checkApiKey(readFile(path, 'POWGATE_LNBITS_KEY_FILE').toString('utf8').trim(), 'the content of POWGATE_LNBITS_KEY_FILE'),
    );
    return new LnbitsBackend({ url, invoiceKey, timeoutMs: options.timeoutMs });
  }
  return undefined;
}

function required(get: (name: string) => string | undefined, name: string, family: string): string {
  const value = get(name);
  if (value === undefined) throw envError(`${name} is not set, but other ${family} variables are`);
  return value;
}

/** The secret from `name` or from the file named by `${name}_FILE`: exactly one of the two. */
function oneOf(get: (name: string) => string | undefined, name: string, fromText: (text: string) => string, fromFile: (path: string) => string): string {
  const text = get(name);
  const path = get(`${name}_FILE`);
  if (text !== undefined && path !== undefined) throw envError(`both ${name} and ${name}_FILE are set: set one of them`);
  if (text === undefined && path === undefined) throw envError(`set ${name} or ${name}_FILE`);
  return fromVariable(() => (text !== undefined ? fromText(text) : fromFile(path!)));
}

/**
 * An LND node's settings from `<prefix>_URL`, `<prefix>_MACAROON` or `<prefix>_MACAROON_FILE`,
 * and optionally `<prefix>_TLS_CERT_FILE`, or undefined when none is set: for the invoice
 * node (`POWGATE_LND`) and for a paying wallet (`POWGATE_WALLET_LND`). Errors as lightningFromEnv's.
 */
export function lndSettingsFromEnv(env: Env, prefix: string): { url: string; macaroon: string; tlsCert: string | undefined } | undefined {
  const get = (name: string) => (env[name] === '' ? undefined : env[name]);
  return lndVariables(prefix).some((name) => get(name) !== undefined) ? lndSettings(get, prefix) : undefined;
}

function lndSettings(get: (name: string) => string | undefined, prefix: string): { url: string; macaroon: string; tlsCert: string | undefined } {
  const url = required(get, `${prefix}_URL`, `${prefix}_*`);
  fromVariable(() => checkNodeUrl(url, `${prefix}_URL`));
  const macaroon = oneOf(
    get,
    `${prefix}_MACAROON`,
    (text) => checkMacaroon(text, `${prefix}_MACAROON`),
    (path) => macaroonFromFile(path, `${prefix}_MACAROON_FILE`),
  );
  const certVariable = `${prefix}_TLS_CERT_FILE`;
  const certFile = get(certVariable);
  const tlsCert = certFile === undefined ? undefined : fromVariable(() => checkPemCertificate(readFile(certFile, certVariable), certVariable));
  return { url, macaroon, tlsCert };
}

/** LND writes macaroons as binary files; a file holding the hex is accepted too. */
function macaroonFromFile(path: string, variable: string): string {
  const bytes = readFile(path, variable);
  const text = bytes.toString('latin1').trim();
  const what = `the content of ${variable}`;
  return /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0 ? checkMacaroon(text, what) : checkMacaroon(bytes, what);
}

/** Reads a small regular file; errors name the variable and the reason, never the content. */
function readFile(path: string, variable: string): Buffer {
  let bytes: Buffer;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw envError(`the file named by ${variable} is not a regular file`);
    if (stat.size > MAX_FILE_BYTES) throw envError(`the file named by ${variable} is larger than ${MAX_FILE_BYTES} bytes`);
    bytes = readFileSync(path);
  } catch (cause) {
    if (cause instanceof PowgateError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new PowgateError('ERR_INVALID_ENV', `cannot read the file named by ${variable} (${code})`, { cause });
  }
  if (bytes.length === 0) throw envError(`the file named by ${variable} is empty`);
  return bytes;
}

/** Runs a check whose message names a variable, reporting it as ERR_INVALID_ENV. */
function fromVariable<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof PowgateError && error.code === 'ERR_INVALID_ARGUMENT') throw new PowgateError('ERR_INVALID_ENV', error.message);
    throw error;
  }
}

function envError(message: string): PowgateError {
  return new PowgateError('ERR_INVALID_ENV', message);
}
