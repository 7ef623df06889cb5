// Batch verification for powgate's WebAssembly backend: proofs of work (one SHA-256 block
// each) and HMAC-SHA256 tags of equal-length messages, 4 items per v128 (one per lane).
// Built with sha256_search.c into one module by `npm run build:wasm`; freestanding: no libc,
// no imports, no allocation.
//
// JS copies a chunk of inputs into io[] and passes pointers into it; the kernel trusts them
// (src/backend/wasm-check.ts lays out; BatchHasher has validated). A group of fewer than 4 items repeats
// its last item in the spare lanes and writes only its own verdicts.

#include "sha256_common.h"

#define IO_BYTES (192 * 1024)
#define MAX_KEYS 256
#define PAD_WORDS 16 // per key: inner state (8 words), then outer state (8 words)

// 16 spare bytes: a message's tail is read in 16-byte pieces (finish4).
static uint8_t io[IO_BYTES + 16] __attribute__((aligned(16)));
// Host-order (little-endian) words, written by JS once per key set.
static uint32_t pads[MAX_KEYS * PAD_WORDS] __attribute__((aligned(16)));

/** Start of the scratch region JS copies inputs into and reads verdicts from. */
EXPORT("io_ptr") uint8_t *io_ptr(void) { return io; }
/** Size of that region, in bytes. */
EXPORT("io_bytes") uint32_t io_bytes(void) { return IO_BYTES; }
/** Where JS writes each key's 16 pad words (MacKey.pads), key i at word 16 * i. */
EXPORT("pads_ptr") uint32_t *pads_ptr(void) { return pads; }

#define ALWAYS_INLINE static inline __attribute__((always_inline))

// ---- moving data between rows (one per item) and lanes ------------------------------------

// Rows q0..q3 of 4 words each -> out[i] = word i of every row (lane k from row k).
ALWAYS_INLINE void transpose(V q0, V q1, V q2, V q3, V out[4]) {
  const V t0 = wasm_i32x4_shuffle(q0, q1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(q0, q1, 2, 6, 3, 7);
  const V t2 = wasm_i32x4_shuffle(q2, q3, 0, 4, 1, 5), t3 = wasm_i32x4_shuffle(q2, q3, 2, 6, 3, 7);
  out[0] = wasm_i32x4_shuffle(t0, t2, 0, 1, 4, 5);
  out[1] = wasm_i32x4_shuffle(t0, t2, 2, 3, 6, 7);
  out[2] = wasm_i32x4_shuffle(t1, t3, 0, 1, 4, 5);
  out[3] = wasm_i32x4_shuffle(t1, t3, 2, 3, 6, 7);
}

// SHA-256 reads bytes as big-endian words; wasm loads little-endian.
ALWAYS_INLINE V bswap(V x) { return wasm_i8x16_shuffle(x, x, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12); }

// Big-endian words at p[k] + offset .. + 15 -> out[0..3], lane k from p[k].
ALWAYS_INLINE void load_be(const uint8_t *const p[4], uint32_t offset, V out[4]) {
  transpose(bswap(wasm_v128_load(p[0] + offset)), bswap(wasm_v128_load(p[1] + offset)),
            bswap(wasm_v128_load(p[2] + offset)), bswap(wasm_v128_load(p[3] + offset)), out);
}

// ---- 4-lane compression ---------------------------------------------------------------------

// W[t] for t >= 16, in a ring of 16 (t & 15 is a constant after unrolling, so w[] stays in
// registers): W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16].
#define WX(t)                                                            \
  (w[(t) & 15] = ADD(ADD(vssig1(w[((t) - 2) & 15]), w[((t) - 7) & 15]), \
                     ADD(vssig0(w[((t) - 15) & 15]), w[(t) & 15])))
#define KW0(t) ADD(w[(t)], SPLAT(K[(t)]))
#define KWX(t) ADD(WX(t), SPLAT(K[(t)]))
#define ROUNDS8(t, KW)                  \
  R(a, b, c, d, e, f, g, h, KW(t));     \
  R(h, a, b, c, d, e, f, g, KW(t + 1)); \
  R(g, h, a, b, c, d, e, f, KW(t + 2)); \
  R(f, g, h, a, b, c, d, e, KW(t + 3)); \
  R(e, f, g, h, a, b, c, d, KW(t + 4)); \
  R(d, e, f, g, h, a, b, c, KW(t + 5)); \
  R(c, d, e, f, g, h, a, b, KW(t + 6)); \
  R(b, c, d, e, f, g, h, a, KW(t + 7))

// One block per lane: s = chaining values, w = message words (overwritten by the schedule).
// Always inlined, so constant words and unused outputs fold away at each use.
ALWAYS_INLINE void compress4(V s[8], V w[16]) {
  V a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
  ROUNDS8(0, KW0);
  ROUNDS8(8, KW0);
  ROUNDS8(16, KWX);
  ROUNDS8(24, KWX);
  ROUNDS8(32, KWX);
  ROUNDS8(40, KWX);
  ROUNDS8(48, KWX);
  ROUNDS8(56, KWX);
  s[0] = ADD(s[0], a); s[1] = ADD(s[1], b); s[2] = ADD(s[2], c); s[3] = ADD(s[3], d);
  s[4] = ADD(s[4], e); s[5] = ADD(s[5], f); s[6] = ADD(s[6], g); s[7] = ADD(s[7], h);
}

// Lane k's item index: i + k, or the group's last item in spare lanes.
ALWAYS_INLINE uint32_t lane_item(uint32_t i, uint32_t k, uint32_t n) { return i + (k < n ? k : n - 1); }

// Writes lane k's verdict (bit k of a bitmask) for the group's n real items.
ALWAYS_INLINE void store_verdicts(uint8_t *verdicts, uint32_t bits, uint32_t n) {
  for (uint32_t k = 0; k < n; k++) verdicts[k] = (uint8_t)((bits >> k) & 1);
}

// ---- proofs of work -------------------------------------------------------------------------

/**
 * verdicts[i] = 1 when the first 8 bytes of SHA-256(prefixes[40i..] || nonces[8i..]), as a
 * big-endian u64, are below thresholds[8i..] (big-endian u64), else 0; i < count.
 */
EXPORT("check_proofs")
void check_proofs(const uint8_t *prefixes, const uint8_t *nonces, const uint8_t *thresholds, uint8_t *verdicts, uint32_t count) {
  for (uint32_t i = 0; i < count; i += 4) {
    const uint32_t n = count - i < 4 ? count - i : 4;
    const uint8_t *p[4];
    V rows[4];
    for (uint32_t k = 0; k < 4; k++) {
      const uint32_t j = lane_item(i, k, n);
      p[k] = prefixes + 40 * j;
      // Words 8..11: the prefix's last 8 bytes, then the nonce.
      rows[k] = bswap(wasm_v128_load64_lane(nonces + 8 * j, wasm_v128_load64_zero(p[k] + 32), 1));
    }
    V w[16];
    load_be(p, 0, w);
    load_be(p, 16, w + 4);
    transpose(rows[0], rows[1], rows[2], rows[3], w + 8);
    w[12] = SPLAT(W12_PAD); w[13] = SPLAT(0); w[14] = SPLAT(0); w[15] = SPLAT(W15_LEN);

    V s[8];
    for (int t = 0; t < 8; t++) s[t] = SPLAT(IV[t]);
    compress4(s, w); // only s[0], s[1] are used: the rest folds away

    for (uint32_t k = 0; k < 4; k++) rows[k] = bswap(wasm_v128_load64_zero(thresholds + 8 * lane_item(i, k, n)));
    V th[4];
    transpose(rows[0], rows[1], rows[2], rows[3], th);
    // Unsigned 64-bit s[0]:s[1] < th[0]:th[1].
    const V below = wasm_v128_or(wasm_u32x4_lt(s[0], th[0]), AND(wasm_i32x4_eq(s[0], th[0]), wasm_u32x4_lt(s[1], th[1])));
    store_verdicts(verdicts + i, wasm_i32x4_bitmask(below), n);
  }
}

// ---- HMAC-SHA256 ------------------------------------------------------------------------------

// Lane k's chaining value from key key[k]'s pads: half 0 inner, half 8 outer.
static void key_state(V s[8], const uint32_t key[4], uint32_t half) {
  const uint32_t *p0 = pads + PAD_WORDS * key[0] + half, *p1 = pads + PAD_WORDS * key[1] + half;
  const uint32_t *p2 = pads + PAD_WORDS * key[2] + half, *p3 = pads + PAD_WORDS * key[3] + half;
  transpose(wasm_v128_load(p0), wasm_v128_load(p1), wasm_v128_load(p2), wasm_v128_load(p3), s);
  transpose(wasm_v128_load(p0 + 4), wasm_v128_load(p1 + 4), wasm_v128_load(p2 + 4), wasm_v128_load(p3 + 4), s + 4);
}

// The HMAC's one copy of the unrolled compression (the proof kernel inlines its own).
__attribute__((noinline)) static void compress_words(V s[8], V w[16]) { compress4(s, w); }

// Compresses `blocks` whole 64-byte blocks from each lane's pointer.
static void blocks4(V s[8], const uint8_t *const m[4], uint32_t blocks) {
  for (uint32_t at = 0; blocks > 0; blocks--, at += 64) {
    V w[16];
    for (uint32_t word = 0; word < 16; word += 4) load_be(m, at + 4 * word, w + word);
    compress_words(s, w);
  }
}

// From the state after the key block and the whole blocks before, the rest of each lane's
// HMAC: the last tail_length (< 64) bytes, padded for 64 + message_length bytes in all, then
// the outer block. Returns bit k set when lane k's HMAC equals the 32 bytes at mac[k],
// compared in constant time (no early exit).
// The tail is read in 16-byte pieces, up to 15 bytes past its end (io[] has 16 spare bytes),
// and padded in registers: a padded copy in memory would stall on store forwarding.
__attribute__((noinline)) static uint32_t finish4(V s[8], const uint32_t key[4], const uint8_t *const tail[4],
                                                  uint32_t tail_length, uint32_t message_length,
                                                  const uint8_t *const mac[4]) {
  const uint64_t bits = ((uint64_t)message_length + 64) * 8;
  const V iota = wasm_i8x16_make(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const V end = wasm_i8x16_splat((int8_t)tail_length);
  V w[16];
  for (uint32_t piece = 0; piece < 4; piece++) {
    const V at = wasm_i8x16_add(iota, wasm_i8x16_splat((int8_t)(16 * piece)));
    const V keep = wasm_u8x16_lt(at, end);
    const V pad = AND(wasm_i8x16_eq(at, end), wasm_i8x16_splat((int8_t)0x80));
    V rows[4];
    for (int k = 0; k < 4; k++) {
      rows[k] = 16 * piece < tail_length ? wasm_v128_or(AND(wasm_v128_load(tail[k] + 16 * piece), keep), pad) : pad;
    }
    transpose(bswap(rows[0]), bswap(rows[1]), bswap(rows[2]), bswap(rows[3]), w + 4 * piece);
  }
  if (tail_length >= 56) { // no room for the length: it takes a block of its own
    compress_words(s, w);
    for (int t = 0; t < 14; t++) w[t] = SPLAT(0);
  }
  w[14] = SPLAT(bits >> 32);
  w[15] = SPLAT(bits);
  compress_words(s, w);

  for (int t = 0; t < 8; t++) w[t] = s[t];
  w[8] = SPLAT(0x80000000u);
  for (int t = 9; t < 15; t++) w[t] = SPLAT(0);
  w[15] = SPLAT((64 + 32) * 8);
  key_state(s, key, 8);
  compress_words(s, w);

  V m[8];
  load_be(mac, 0, m);
  load_be(mac, 16, m + 4);
  V diff = wasm_i32x4_splat(0);
  for (int t = 0; t < 8; t++) diff = wasm_v128_or(diff, XOR(s[t], m[t]));
  return (uint32_t)wasm_i32x4_bitmask(wasm_i32x4_eq(diff, wasm_i32x4_splat(0)));
}

/**
 * verdicts[i] = 1 when HMAC-SHA256(key key_indexes[i], data[i * length, (i + 1) * length))
 * equals macs[32i, 32i + 32), else 0; i < count. Keys are read from pads[].
 */
EXPORT("check_macs")
void check_macs(const uint8_t *data, uint32_t length, const uint8_t *key_indexes, const uint8_t *macs, uint8_t *verdicts, uint32_t count) {
  const uint32_t whole = length / 64, tail_length = length % 64;
  for (uint32_t i = 0; i < count; i += 4) {
    const uint32_t n = count - i < 4 ? count - i : 4;
    uint32_t key[4];
    const uint8_t *m[4], *tail[4], *mac[4];
    for (uint32_t k = 0; k < 4; k++) {
      const uint32_t j = lane_item(i, k, n);
      key[k] = key_indexes[j];
      m[k] = data + length * j;
      tail[k] = m[k] + 64 * whole;
      mac[k] = macs + 32 * j;
    }
    V s[8];
    key_state(s, key, 0);
    blocks4(s, m, whole);
    store_verdicts(verdicts + i, finish4(s, key, tail, tail_length, length, mac), n);
  }
}

// ---- one message too long for io[], fed in pieces ------------------------------------------
// The same 4-lane code with one message in every lane: 4 times the work, for a rare case.

static V stream[8];
static uint32_t stream_key[4];

/** Starts the HMAC of one long message under key `key_index`. */
EXPORT("mac_begin") void mac_begin(uint32_t key_index) {
  for (int k = 0; k < 4; k++) stream_key[k] = key_index;
  key_state(stream, stream_key, 0);
}

/** Feeds `blocks` whole 64-byte blocks of the message from p. */
EXPORT("mac_update") void mac_update(const uint8_t *p, uint32_t blocks) {
  const uint8_t *const m[4] = {p, p, p, p};
  blocks4(stream, m, blocks);
}

/**
 * Feeds the message's last tail_length (< 64) bytes from tail; returns 1 when the HMAC of
 * the whole message (message_length bytes) equals the 32 bytes at mac, else 0.
 */
EXPORT("mac_end") uint32_t mac_end(const uint8_t *tail, uint32_t tail_length, uint32_t message_length, const uint8_t *mac) {
  const uint8_t *const t[4] = {tail, tail, tail, tail}, *const m[4] = {mac, mac, mac, mac};
  return finish4(stream, stream_key, t, tail_length, message_length, m) & 1;
}
