// RFC 7235 challenges of a WWW-Authenticate header, read from untrusted input: a header may
// hold several (`PowGate realm="powgate", scope="search", L402 macaroon="...", invoice="..."`).

/** One challenge: its scheme (as sent) and its auth-params (names lowercased, values unquoted). */
export interface AuthChallenge {
  scheme: string;
  /** Null-prototype: a param named `__proto__` is only a param. The first of repeated names counts. */
  params: Record<string, string>;
}

/** Longest header read; longer ones yield no challenges. */
const MAX_WWW_AUTHENTICATE_CHARS = 16_384;
/** Most challenges read from one header. */
const MAX_CHALLENGES = 16;
/** Most params read per challenge. */
const MAX_PARAMS = 32;

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /[A-Za-z0-9\-._~+/]/;

/**
 * Parses a WWW-Authenticate value (several headers joined by ", " as fetch's `Headers.get`
 * does) into its challenges. Never throws: what follows a syntax error is dropped; a
 * token68 (no params) gives a challenge with no params. Returns [] for a value longer than
 * {@link MAX_WWW_AUTHENTICATE_CHARS} or not a string.
 */
export function parseWwwAuthenticate(header: unknown): AuthChallenge[] {
  if (typeof header !== 'string' || header.length > MAX_WWW_AUTHENTICATE_CHARS) return [];
  const s = header;
  let i = 0;
  const out: AuthChallenge[] = [];
  const ws = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  const token = (chars = TCHAR): string => {
    const start = i;
    while (i < s.length && chars.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  const quoted = (): string | undefined => {
    i++; // the opening quote
    let value = '';
    while (i < s.length) {
      const c = s[i++]!;
      if (c === '"') return value;
      if (c === '\\') {
        if (i >= s.length) return undefined;
        value += s[i++];
      } else value += c;
    }
    return undefined;
  };
  /** At a param: `name BWS "=" BWS` with the next char not '=' (which would make a token68). */
  const atParam = (): boolean => {
    const save = i;
    const name = token();
    ws();
    const yes = name !== '' && s[i] === '=' && s[i + 1] !== '=';
    i = save;
    return yes;
  };

  while (i < s.length && out.length < MAX_CHALLENGES) {
    while (s[i] === ',' || s[i] === ' ' || s[i] === '\t') i++;
    if (i >= s.length) break;
    const scheme = token();
    if (scheme === '') break;
    const params: Record<string, string> = Object.create(null);
    const challenge = { scheme, params };
    out.push(challenge);
    ws();
    if (i >= s.length) break;
    if (s[i] === ',') continue;
    if (!atParam()) {
      // token68: skip it; what follows must be a comma or the end.
      token(TOKEN68);
      while (s[i] === '=') i++;
      ws();
      if (i < s.length && s[i] !== ',') return out;
      continue;
    }
    let count = 0;
    for (;;) {
      const name = token().toLowerCase();
      ws();
      i++; // '='
      ws();
      const value = s[i] === '"' ? quoted() : token();
      if (value === undefined) return out;
      if (!(name in params) && count++ < MAX_PARAMS) params[name] = value;
      ws();
      if (i >= s.length) return out;
      if (s[i] !== ',') return out;
      // A comma: another param of this challenge, or the next challenge.
      while (s[i] === ',' || s[i] === ' ' || s[i] === '\t') i++;
      if (i >= s.length || !atParam()) break;
    }
  }
  return out;
}
