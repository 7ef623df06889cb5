// The protocol's wire constants (docs/PROTOCOL.md), defined once for the TypeScript side.
// A base module: every layer may import it, and it imports nothing.

/** The challenge format's version, `v`. */
export const CHALLENGE_VERSION = 2;
/** The domain label opening a challenge's MAC input (followed by a 0x00). */
export const CHALLENGE_LABEL = 'powgate/challenge/v2';
/** A challenge's keys, in the order powgate writes them. */
export const CHALLENGE_KEYS: readonly string[] = ['v', 'id', 'kid', 'difficulty', 'threshold', 'subPuzzles', 'calls', 'price', 'scope', 'issuedAt', 'expiresAt', 'signature'];
/** The solution format's version, `v`. */
export const SOLUTION_VERSION = 1;
/** A solution's required keys, in the order powgate writes them. */
export const SOLUTION_KEYS: readonly string[] = ['v', 'id', 'nonces'];
/** A solution's optional keys, written after the required ones. */
export const SOLUTION_OPTIONAL_KEYS: readonly string[] = ['elapsedMs'];
/** Most sub-puzzles a challenge may ask for (and nonces a solution may carry). */
export const MAX_SUB_PUZZLES = 64;
/** Most calls one challenge, and so one token, may buy (its `calls`). */
export const MAX_CALLS = 1_048_576;

/** A challenge id: 16 random bytes, 22 base64url characters. */
export const ID_BYTES = 16;
export const ID_CHARS = 22;
/** A MAC (HMAC-SHA256): 32 bytes, 43 base64url characters as a challenge's `signature`. */
export const MAC_BYTES = 32;
export const SIGNATURE_CHARS = 43;
/** A nonce: a u64, 16 lowercase hex digits. */
export const NONCE_BYTES = 8;
export const NONCE_CHARS = 16;

// The hashed work message: one 48-byte message (a single SHA-256 block with its padding),
// bound to the challenge by its MAC.
//
//   bytes  0..3   "PGW1"            work label, version 1
//   bytes  4..35  challenge MAC     the signature's 32 bytes
//   bytes 36..39  sub-puzzle index  u32, big-endian
//   bytes 40..47  nonce             u64, big-endian
//
// Everything before the nonce is fixed per sub-puzzle, so solvers hash it once.

/** The work message's label, version 1. */
export const WORK_LABEL = 'PGW1';
/** Where the challenge MAC starts in a work message. */
export const WORK_MAC_AT = 4;
/** Where the sub-puzzle index (u32, big-endian) starts in a work message. */
export const WORK_INDEX_AT = 36;
/** The bytes before the nonce: fixed per sub-puzzle. */
export const WORK_PREFIX_BYTES = 40;
/** The whole work message: prefix and nonce. */
export const WORK_MESSAGE_BYTES = 48;

/** The domain label opening a token's MAC input (followed by a 0x00). */
export const TOKEN_LABEL = 'powgate/token/v2';
/** What every token of this version starts with. */
export const TOKEN_PREFIX = 'pgt2.';
/** Tokens of protocol version 1 start with this: refused as `unsupported_version`. */
export const OLD_TOKEN_PREFIX = 'pgt1.';
