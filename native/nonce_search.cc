// Portable half of the nonce search: the midstate, the plain re-check and the
// scalar kernel (the generic rounds on one 32-bit lane).
#include "nonce_search.h"

#include <cstring>

#include "nonce_kernel.h"
#include "sha256.h"

namespace powgate {

namespace {

inline uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
inline uint32_t S0(uint32_t a) { return Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22); }
inline uint32_t S1(uint32_t e) { return Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25); }
inline uint32_t s0(uint32_t x) { return Rotr(x, 7) ^ Rotr(x, 18) ^ (x >> 3); }
inline uint32_t s1(uint32_t x) { return Rotr(x, 17) ^ Rotr(x, 19) ^ (x >> 10); }
inline uint32_t Ch(uint32_t e, uint32_t f, uint32_t g) { return (e & f) ^ (~e & g); }
inline uint32_t Maj(uint32_t a, uint32_t b, uint32_t c) { return (a & b) ^ (a & c) ^ (b & c); }

struct ScalarOps {
  using V = uint32_t;
  static V Set1(uint32_t x) { return x; }
  static V Add(V a, V b) { return a + b; }
  static V BigSigma0(V a) { return S0(a); }
  static V BigSigma1(V e) { return S1(e); }
  static V SmallSigma0(V x) { return s0(x); }
  static V SmallSigma1(V x) { return s1(x); }
  static V Ch(V e, V f, V g) { return powgate::Ch(e, f, g); }
  static V Maj(V a, V b, V c) { return powgate::Maj(a, b, c); }
  static V Iota(uint32_t base) { return base; }
  using Prepared = NonceMidstate;
  static void Leading(const NonceMidstate& m, uint32_t base, V (&h0)[1]) { h0[0] = LeadingWord<ScalarOps>(m, base); }
  static uint32_t AtMost(V h0, uint32_t limit) { return h0 <= limit ? 1u : 0u; }
};

void WorkBlock(const uint8_t prefix[kWorkPrefixBytes], uint32_t hi, uint32_t lo, uint8_t block[64]) {
  std::memcpy(block, prefix, kWorkPrefixBytes);
  StoreBe32(block + 40, hi);
  StoreBe32(block + 44, lo);
  std::memset(block + 48, 0, 16);
  block[48] = 0x80;
  StoreBe32(block + 60, 48 * 8);
}

}  // namespace

void PrepareMidstate(const uint8_t prefix[kWorkPrefixBytes], uint32_t nonce_hi, uint64_t threshold, NonceMidstate* m) {
  uint8_t block[64];
  WorkBlock(prefix, nonce_hi, 0, block);
  uint32_t* w = m->w;
  for (int i = 0; i < 16; i++) w[i] = LoadBe32(block + 4 * i);
  // Constant schedule words in full; for the varying ones, only their constant terms.
  for (int i = 16; i < 64; i++) {
    uint32_t sum = 0;
    if (!VariesWithNonce(i - 2)) sum += s1(w[i - 2]);
    if (!VariesWithNonce(i - 7)) sum += w[i - 7];
    if (!VariesWithNonce(i - 15)) sum += s0(w[i - 15]);
    if (!VariesWithNonce(i - 16)) sum += w[i - 16];
    w[i] = sum;
  }
  for (int i = 0; i < 64; i++) m->kw[i] = VariesWithNonce(i) ? 0 : kSha256K[i] + w[i];

  uint32_t a = kSha256Iv[0], b = kSha256Iv[1], c = kSha256Iv[2], d = kSha256Iv[3];
  uint32_t e = kSha256Iv[4], f = kSha256Iv[5], g = kSha256Iv[6], h = kSha256Iv[7];
  for (int i = 0; i < 11; i++) {
    if (i == 10) {
      const uint32_t state[8] = {a, b, c, d, e, f, g, h};
      std::memcpy(m->state10, state, sizeof state);
    }
    const uint32_t t1 = h + S1(e) + Ch(e, f, g) + m->kw[i];
    const uint32_t t2 = S0(a) + Maj(a, b, c);
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  // Round 11, less W11: every lane adds its own W11 to a and e.
  const uint32_t t1 = h + S1(e) + Ch(e, f, g) + kSha256K[11];
  m->e12 = d + t1;
  m->a12 = t1 + S0(a) + Maj(a, b, c);
  m->b12 = a;
  m->c12 = b;
  m->d12 = c;
  m->f12 = e;
  m->g12 = f;
  m->h12 = g;
  m->threshold_hi = uint32_t(threshold >> 32);
  m->threshold_lo = uint32_t(threshold);
}

bool NonceMeetsThreshold(const uint8_t prefix[kWorkPrefixBytes], uint32_t nonce_hi, uint32_t nonce_lo, uint64_t threshold) {
  uint8_t block[64];
  WorkBlock(prefix, nonce_hi, nonce_lo, block);
  uint32_t state[8];
  std::memcpy(state, kSha256Iv, sizeof state);
  CompressScalar(state, block, 1);
  return ((uint64_t(state[0]) << 32) | state[1]) < threshold;
}

bool SearchNoncesScalar(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  return SearchNonces<ScalarOps, 1>(m, prefix, hi, lo, count, found);
}

}  // namespace powgate
