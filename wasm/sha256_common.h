// SHA-256 pieces shared by powgate's WebAssembly kernels (sha256_search.c, sha256_check.c):
// constants, scalar round, 4-lane SIMD round. Header-only and static, so each kernel's
// compiler sees the constants and folds K[t] + W[t] wherever W[t] is known.

#ifndef POWGATE_SHA256_COMMON_H
#define POWGATE_SHA256_COMMON_H

#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name), visibility("default")))

typedef v128_t V;

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t IV[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

// The 48-byte work message (docs/PROTOCOL.md, "Work message") as big-endian words:
//   W0..W9 prefix, W10 nonce high, W11 nonce low, W12 0x80000000, W13 = W14 = 0, W15 384.
#define W12_PAD 0x80000000u // the 0x80 byte after the message
#define W15_LEN 384u        // message length in bits

// ---- scalar SHA-256 pieces --------------------------------------------------------------

static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
static inline uint32_t bsig0(uint32_t x) { return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22); }
static inline uint32_t bsig1(uint32_t x) { return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25); }
static inline uint32_t ssig0(uint32_t x) { return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3); }
static inline uint32_t ssig1(uint32_t x) { return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10); }
static inline uint32_t ch(uint32_t e, uint32_t f, uint32_t g) { return g ^ (e & (f ^ g)); }
static inline uint32_t maj(uint32_t a, uint32_t b, uint32_t c) { return (a & b) | (c & (a | b)); }

// One scalar round on state s[0..7] = a..h.
static inline void round1(uint32_t s[8], uint32_t kw) {
  uint32_t t1 = s[7] + bsig1(s[4]) + ch(s[4], s[5], s[6]) + kw;
  uint32_t t2 = bsig0(s[0]) + maj(s[0], s[1], s[2]);
  s[7] = s[6]; s[6] = s[5]; s[5] = s[4]; s[4] = s[3] + t1;
  s[3] = s[2]; s[2] = s[1]; s[1] = s[0]; s[0] = t1 + t2;
}

// ---- SIMD pieces (4 lanes of u32) ------------------------------------------------------------

#define ADD(x, y) wasm_i32x4_add(x, y)
#define XOR(x, y) wasm_v128_xor(x, y)
#define AND(x, y) wasm_v128_and(x, y)
#define SPLAT(x) wasm_i32x4_splat((int32_t)(x))

static inline V vrotr(V x, int n) { return wasm_v128_or(wasm_u32x4_shr(x, n), wasm_i32x4_shl(x, 32 - n)); }
static inline V vbsig0(V x) { return XOR(XOR(vrotr(x, 2), vrotr(x, 13)), vrotr(x, 22)); }
static inline V vbsig1(V x) { return XOR(XOR(vrotr(x, 6), vrotr(x, 11)), vrotr(x, 25)); }
static inline V vssig0(V x) { return XOR(XOR(vrotr(x, 7), vrotr(x, 18)), wasm_u32x4_shr(x, 3)); }
static inline V vssig1(V x) { return XOR(XOR(vrotr(x, 17), vrotr(x, 19)), wasm_u32x4_shr(x, 10)); }
static inline V vch(V e, V f, V g) { return XOR(g, AND(e, XOR(f, g))); }
// Maj as b ^ ((a ^ b) & (b ^ c)): this round's a ^ b is the next round's b ^ c, which the
// compiler reuses (common subexpression), so Maj costs two operations.
static inline V vmaj(V a, V b, V c) { return XOR(b, AND(XOR(a, b), XOR(b, c))); }

// One round; kw = K[t] + W[t]. The caller rotates the names (no moves).
#define R(a, b, c, d, e, f, g, h, kw)                                  \
  do {                                                                 \
    V t1_ = ADD(ADD(ADD(h, kw), vch(e, f, g)), vbsig1(e));             \
    V t2_ = ADD(vbsig0(a), vmaj(a, b, c));                             \
    d = ADD(d, t1_);                                                   \
    h = ADD(t1_, t2_);                                                 \
  } while (0)

#endif
