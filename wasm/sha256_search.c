// SHA-256 nonce search for powgate's 48-byte work messages, as WebAssembly SIMD
// (4 nonces per v128). Built by `npm run build:wasm` (scripts/build-wasm.mjs) into
// src/backend/wasm-kernel.ts; freestanding: no libc, no imports, no allocation.
//
// The message is one block (its words: sha256_common.h). Only W11 changes between nonces
// of one call, so:
//   - set_prefix() runs rounds 0..9 once per prefix (they read only W0..W9);
//   - search() runs round 10 (W10 = hi) and folds every schedule term that does not
//     depend on W11 into scalars, once per call;
//   - the loop varies W11 across 4 lanes: round 11 is two additions, rounds 12..63
//     run in SIMD with the constant parts folded, and only H0 is compared;
//   - a lane that passes the H0 test is re-checked with plain scalar SHA-256 (an
//     independent path) against the full 64-bit threshold before it is returned.

#include "sha256_common.h"

// ---- state shared between calls -----------------------------------------------------------

// JS writes the 40 prefix bytes here, then calls set_prefix().
static uint8_t prefix_bytes[40];
// Prefix as big-endian words, and the state after rounds 0..9.
static uint32_t pw[10];
static uint32_t mid9[8];

EXPORT("prefix_ptr") uint8_t *prefix_ptr(void) { return prefix_bytes; }

EXPORT("set_prefix") void set_prefix(void) {
  for (int i = 0; i < 10; i++) {
    const uint8_t *p = prefix_bytes + 4 * i;
    pw[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
  }
  for (int i = 0; i < 8; i++) mid9[i] = IV[i];
  for (int t = 0; t < 10; t++) round1(mid9, K[t] + pw[t]);
}

// Plain SHA-256 of the whole message, written independently of the SIMD path: it decides
// every nonce that is returned (and the tail of a range that is not a multiple of 4).
__attribute__((noinline)) static int below_threshold(uint32_t hi, uint32_t lo, uint32_t th_hi, uint32_t th_lo) {
  uint32_t w[64];
  for (int i = 0; i < 10; i++) w[i] = pw[i];
  w[10] = hi; w[11] = lo; w[12] = W12_PAD; w[13] = 0; w[14] = 0; w[15] = W15_LEN;
  for (int t = 16; t < 64; t++) w[t] = ssig1(w[t - 2]) + w[t - 7] + ssig0(w[t - 15]) + w[t - 16];
  uint32_t s[8];
  for (int i = 0; i < 8; i++) s[i] = IV[i];
  for (int t = 0; t < 64; t++) round1(s, K[t] + w[t]);
  uint32_t h0 = s[0] + IV[0], h1 = s[1] + IV[1];
  return h0 < th_hi || (h0 == th_hi && h1 < th_lo);
}

/**
 * Tries nonces hi:lo .. hi:last (lo <= last) in order; returns the low word of the first
 * whose digest's first 8 bytes, as a big-endian u64, are below th_hi:th_lo, or -1.
 * A double carries every u32 and -1 without ambiguity.
 */
EXPORT("search") double search(uint32_t hi, uint32_t lo, uint32_t last, uint32_t th_hi, uint32_t th_lo) {
  if (last < lo) return -1;

  // Round 10 (W10 = hi), then the constant part of round 11: the state after round 11 is
  // (X + W11, A, B, C, Y + W11, E, F, G) with A..H the state after round 10.
  uint32_t s[8];
  for (int i = 0; i < 8; i++) s[i] = mid9[i];
  round1(s, K[10] + hi);
  const uint32_t A = s[0], B = s[1], C = s[2], D = s[3], E = s[4], F = s[5], G = s[6], H = s[7];
  const uint32_t t1c = H + bsig1(E) + ch(E, F, G) + K[11];
  const uint32_t X = t1c + bsig0(A) + maj(A, B, C), Y = D + t1c;

  // Message schedule: W16, W17, W19, W21, W23 are constants; cNN is the constant part
  // of WNN (see the formula next to each use below).
  const uint32_t *w = pw;
  const uint32_t w10 = hi;
  const uint32_t w16 = ssig1(0) + w[9] + ssig0(w[1]) + w[0];
  const uint32_t w17 = ssig1(W15_LEN) + w10 + ssig0(w[2]) + w[1];
  const uint32_t c18 = ssig1(w16) + ssig0(w[3]) + w[2];
  const uint32_t w19 = ssig1(w17) + W12_PAD + ssig0(w[4]) + w[3];
  const uint32_t c20 = ssig0(w[5]) + w[4];
  const uint32_t w21 = ssig1(w19) + ssig0(w[6]) + w[5];
  const uint32_t c22 = W15_LEN + ssig0(w[7]) + w[6];
  const uint32_t w23 = ssig1(w21) + w16 + ssig0(w[8]) + w[7];
  const uint32_t c24 = w17 + ssig0(w[9]) + w[8];
  const uint32_t c25 = ssig1(w23) + ssig0(w10) + w[9];
  const uint32_t c26 = w19 + w10;
  const uint32_t c27 = ssig0(W12_PAD);
  const uint32_t c28 = w21 + W12_PAD;
  const uint32_t c30 = w23 + ssig0(W15_LEN);
  const uint32_t c31 = W15_LEN + ssig0(w16);
  const uint32_t c32 = w16 + ssig0(w17);
  const uint32_t c34 = ssig0(w19);
  const uint32_t c36 = ssig0(w21);
  const uint32_t c38 = ssig0(w23);

  // Rounds whose K + W is one constant.
  const V kw12 = SPLAT(K[12] + W12_PAD), kw13 = SPLAT(K[13]), kw14 = SPLAT(K[14]);
  const V kw15 = SPLAT(K[15] + W15_LEN), kw16 = SPLAT(K[16] + w16), kw17 = SPLAT(K[17] + w17);
  const V kw19 = SPLAT(K[19] + w19), kw21 = SPLAT(K[21] + w21), kw23 = SPLAT(K[23] + w23);

  const V vX = SPLAT(X), vY = SPLAT(Y);
  const V vA = SPLAT(A), vB = SPLAT(B), vC = SPLAT(C), vE = SPLAT(E), vF = SPLAT(F), vG = SPLAT(G);
  const V vthhi = SPLAT(th_hi), iv0 = SPLAT(IV[0]);

  uint32_t cur = lo;
  uint64_t left = (uint64_t)last - lo + 1;
  V w11 = ADD(SPLAT(lo), wasm_i32x4_make(0, 1, 2, 3));
  const V four = SPLAT(4);

  for (; left >= 4; left -= 4, cur += 4, w11 = ADD(w11, four)) {
    V a = ADD(vX, w11), b = vA, c = vB, d = vC, e = ADD(vY, w11), f = vE, g = vF, h = vG;

    R(a, b, c, d, e, f, g, h, kw12);
    R(h, a, b, c, d, e, f, g, kw13);
    R(g, h, a, b, c, d, e, f, kw14);
    R(f, g, h, a, b, c, d, e, kw15);
    R(e, f, g, h, a, b, c, d, kw16);
    R(d, e, f, g, h, a, b, c, kw17);
    const V w18 = ADD(w11, SPLAT(c18));                                 // σ1(W16) + W11 + σ0(W3) + W2
    R(c, d, e, f, g, h, a, b, ADD(w18, SPLAT(K[18])));
    R(b, c, d, e, f, g, h, a, kw19);
    const V w20 = ADD(vssig1(w18), SPLAT(c20));                         // σ1(W18) + W13 + σ0(W5) + W4
    R(a, b, c, d, e, f, g, h, ADD(w20, SPLAT(K[20])));
    R(h, a, b, c, d, e, f, g, kw21);
    const V w22 = ADD(vssig1(w20), SPLAT(c22));                         // σ1(W20) + W15 + σ0(W7) + W6
    R(g, h, a, b, c, d, e, f, ADD(w22, SPLAT(K[22])));
    R(f, g, h, a, b, c, d, e, kw23);
    const V w24 = ADD(vssig1(w22), SPLAT(c24));                         // σ1(W22) + W17 + σ0(W9) + W8
    R(e, f, g, h, a, b, c, d, ADD(w24, SPLAT(K[24])));
    const V w25 = ADD(w18, SPLAT(c25));                                 // σ1(W23) + W18 + σ0(W10) + W9
    R(d, e, f, g, h, a, b, c, ADD(w25, SPLAT(K[25])));
    const V w26 = ADD(ADD(vssig1(w24), vssig0(w11)), SPLAT(c26));       // σ1(W24) + W19 + σ0(W11) + W10
    R(c, d, e, f, g, h, a, b, ADD(w26, SPLAT(K[26])));
    const V w27 = ADD(ADD(vssig1(w25), w20), ADD(w11, SPLAT(c27)));     // σ1(W25) + W20 + σ0(W12) + W11
    R(b, c, d, e, f, g, h, a, ADD(w27, SPLAT(K[27])));
    const V w28 = ADD(vssig1(w26), SPLAT(c28));                         // σ1(W26) + W21 + σ0(W13) + W12
    R(a, b, c, d, e, f, g, h, ADD(w28, SPLAT(K[28])));
    const V w29 = ADD(vssig1(w27), w22);                                // σ1(W27) + W22 + σ0(W14) + W13
    R(h, a, b, c, d, e, f, g, ADD(w29, SPLAT(K[29])));
    const V w30 = ADD(vssig1(w28), SPLAT(c30));                         // σ1(W28) + W23 + σ0(W15) + W14
    R(g, h, a, b, c, d, e, f, ADD(w30, SPLAT(K[30])));
    const V w31 = ADD(ADD(vssig1(w29), w24), SPLAT(c31));               // σ1(W29) + W24 + σ0(W16) + W15
    R(f, g, h, a, b, c, d, e, ADD(w31, SPLAT(K[31])));
    const V w32 = ADD(ADD(vssig1(w30), w25), SPLAT(c32));               // σ1(W30) + W25 + σ0(W17) + W16
    R(e, f, g, h, a, b, c, d, ADD(w32, SPLAT(K[32])));
    const V w33 = ADD(ADD(vssig1(w31), w26), ADD(vssig0(w18), SPLAT(w17))); // σ1(W31) + W26 + σ0(W18) + W17
    R(d, e, f, g, h, a, b, c, ADD(w33, SPLAT(K[33])));
    const V w34 = ADD(ADD(vssig1(w32), w27), ADD(w18, SPLAT(c34)));     // σ1(W32) + W27 + σ0(W19) + W18
    R(c, d, e, f, g, h, a, b, ADD(w34, SPLAT(K[34])));
    const V w35 = ADD(ADD(vssig1(w33), w28), ADD(vssig0(w20), SPLAT(w19))); // σ1(W33) + W28 + σ0(W20) + W19
    R(b, c, d, e, f, g, h, a, ADD(w35, SPLAT(K[35])));
    const V w36 = ADD(ADD(vssig1(w34), w29), ADD(w20, SPLAT(c36)));     // σ1(W34) + W29 + σ0(W21) + W20
    R(a, b, c, d, e, f, g, h, ADD(w36, SPLAT(K[36])));
    const V w37 = ADD(ADD(vssig1(w35), w30), ADD(vssig0(w22), SPLAT(w21))); // σ1(W35) + W30 + σ0(W22) + W21
    R(h, a, b, c, d, e, f, g, ADD(w37, SPLAT(K[37])));
    const V w38 = ADD(ADD(vssig1(w36), w31), ADD(w22, SPLAT(c38)));     // σ1(W36) + W31 + σ0(W23) + W22
    R(g, h, a, b, c, d, e, f, ADD(w38, SPLAT(K[38])));
    const V w39 = ADD(ADD(vssig1(w37), w32), ADD(vssig0(w24), SPLAT(w23))); // σ1(W37) + W32 + σ0(W24) + W23
    R(f, g, h, a, b, c, d, e, ADD(w39, SPLAT(K[39])));

    // From W40 on, every term varies: W[t] = σ1(W[t-2]) + W[t-7] + σ0(W[t-15]) + W[t-16].
#define WS(t, m2, m7, m15, m16) const V w##t = ADD(ADD(vssig1(m2), m7), ADD(vssig0(m15), m16))
    WS(40, w38, w33, w25, w24); R(e, f, g, h, a, b, c, d, ADD(w40, SPLAT(K[40])));
    WS(41, w39, w34, w26, w25); R(d, e, f, g, h, a, b, c, ADD(w41, SPLAT(K[41])));
    WS(42, w40, w35, w27, w26); R(c, d, e, f, g, h, a, b, ADD(w42, SPLAT(K[42])));
    WS(43, w41, w36, w28, w27); R(b, c, d, e, f, g, h, a, ADD(w43, SPLAT(K[43])));
    WS(44, w42, w37, w29, w28); R(a, b, c, d, e, f, g, h, ADD(w44, SPLAT(K[44])));
    WS(45, w43, w38, w30, w29); R(h, a, b, c, d, e, f, g, ADD(w45, SPLAT(K[45])));
    WS(46, w44, w39, w31, w30); R(g, h, a, b, c, d, e, f, ADD(w46, SPLAT(K[46])));
    WS(47, w45, w40, w32, w31); R(f, g, h, a, b, c, d, e, ADD(w47, SPLAT(K[47])));
    WS(48, w46, w41, w33, w32); R(e, f, g, h, a, b, c, d, ADD(w48, SPLAT(K[48])));
    WS(49, w47, w42, w34, w33); R(d, e, f, g, h, a, b, c, ADD(w49, SPLAT(K[49])));
    WS(50, w48, w43, w35, w34); R(c, d, e, f, g, h, a, b, ADD(w50, SPLAT(K[50])));
    WS(51, w49, w44, w36, w35); R(b, c, d, e, f, g, h, a, ADD(w51, SPLAT(K[51])));
    WS(52, w50, w45, w37, w36); R(a, b, c, d, e, f, g, h, ADD(w52, SPLAT(K[52])));
    WS(53, w51, w46, w38, w37); R(h, a, b, c, d, e, f, g, ADD(w53, SPLAT(K[53])));
    WS(54, w52, w47, w39, w38); R(g, h, a, b, c, d, e, f, ADD(w54, SPLAT(K[54])));
    WS(55, w53, w48, w40, w39); R(f, g, h, a, b, c, d, e, ADD(w55, SPLAT(K[55])));
    WS(56, w54, w49, w41, w40); R(e, f, g, h, a, b, c, d, ADD(w56, SPLAT(K[56])));
    WS(57, w55, w50, w42, w41); R(d, e, f, g, h, a, b, c, ADD(w57, SPLAT(K[57])));
    WS(58, w56, w51, w43, w42); R(c, d, e, f, g, h, a, b, ADD(w58, SPLAT(K[58])));
    WS(59, w57, w52, w44, w43); R(b, c, d, e, f, g, h, a, ADD(w59, SPLAT(K[59])));
    WS(60, w58, w53, w45, w44); R(a, b, c, d, e, f, g, h, ADD(w60, SPLAT(K[60])));
    WS(61, w59, w54, w46, w45); R(h, a, b, c, d, e, f, g, ADD(w61, SPLAT(K[61])));
    WS(62, w60, w55, w47, w46); R(g, h, a, b, c, d, e, f, ADD(w62, SPLAT(K[62])));
    WS(63, w61, w56, w48, w47);
#undef WS
    // Round 63: only the new a is needed (H0 = a + IV0); the new e is not.
    const V t1 = ADD(ADD(ADD(e, ADD(w63, SPLAT(K[63]))), vch(b, c, d)), vbsig1(b));
    const V h0 = ADD(ADD(t1, ADD(vbsig0(f), vmaj(f, g, h))), iv0);

    // H0 <= th_hi (unsigned) catches every lane that may be below the threshold; the
    // scalar check decides, lowest nonce first.
    if (wasm_v128_any_true(wasm_u32x4_le(h0, vthhi))) {
      for (uint32_t k = 0; k < 4; k++) {
        if (below_threshold(hi, cur + k, th_hi, th_lo)) return cur + k;
      }
    }
  }
  for (; left > 0; left--, cur++) {
    if (below_threshold(hi, cur, th_hi, th_lo)) return cur;
  }
  return -1;
}
