// Portable half of the nonce search: the midstate, the plain re-check and the
// scalar kernel (the generic rounds on one 32-bit lane).
#include "nonce_search.h"

#include <cstring>

#include "nonce_kernel.h"
#include "sha256.h"

namespace powgate {

namespace {

struct ScalarNonceOps : ScalarOps {
  static V Iota(uint32_t base) { return base; }
  using Prepared = NonceMidstate;
  static void Leading(const NonceMidstate& m, uint32_t base, V (&h0)[1]) { h0[0] = LeadingWord<ScalarNonceOps>(m, base); }
  static uint32_t AtMost(V h0, uint32_t limit) { return h0 <= limit ? 1u : 0u; }
};

WorkBlock MakeWorkBlock(const uint8_t prefix[kWorkPrefixBytes], uint32_t hi, uint32_t lo) {
  WorkBlock block = kWorkBlockPadding;
  std::memcpy(block.bytes, prefix, kWorkPrefixBytes);
  StoreBe32(block.bytes + kWorkPrefixBytes, hi);
  StoreBe32(block.bytes + kWorkPrefixBytes + 4, lo);
  return block;
}

}  // namespace

void PrepareMidstate(const uint8_t prefix[kWorkPrefixBytes], uint32_t nonce_hi, uint64_t threshold, NonceMidstate* m) {
  const WorkBlock block = MakeWorkBlock(prefix, nonce_hi, 0);
  uint32_t* w = m->w;
  for (int i = 0; i < 16; i++) w[i] = LoadBe32(block.bytes + 4 * i);
  // Constant schedule words in full; for the varying ones, only their constant terms.
  for (int i = 16; i < 64; i++) {
    uint32_t sum = 0;
    if (!VariesWithNonce(i - 2)) sum += ScalarOps::SmallSigma1(w[i - 2]);
    if (!VariesWithNonce(i - 7)) sum += w[i - 7];
    if (!VariesWithNonce(i - 15)) sum += ScalarOps::SmallSigma0(w[i - 15]);
    if (!VariesWithNonce(i - 16)) sum += w[i - 16];
    w[i] = sum;
  }
  for (int i = 0; i < 64; i++) m->kw[i] = VariesWithNonce(i) ? 0 : kSha256K[i] + w[i];

  // Rounds 0..11 with W11 = 0 (the block's low word): every lane then adds its own
  // W11 to a and e, the only words that round 11's sum reaches.
  uint32_t a = kSha256Iv[0], b = kSha256Iv[1], c = kSha256Iv[2], d = kSha256Iv[3];
  uint32_t e = kSha256Iv[4], f = kSha256Iv[5], g = kSha256Iv[6], h = kSha256Iv[7];
  for (int i = 0; i < 12; i++) {
    if (i == 10) {
      const uint32_t state[8] = {a, b, c, d, e, f, g, h};
      std::memcpy(m->state10, state, sizeof state);
    }
    Round<ScalarOps>(a, b, c, d, e, f, g, h, kSha256K[i] + w[i]);
  }
  m->a12 = a;
  m->e12 = e;
  m->b12 = b;
  m->c12 = c;
  m->d12 = d;
  m->f12 = f;
  m->g12 = g;
  m->h12 = h;
  m->threshold_hi = uint32_t(threshold >> 32);
  m->threshold_lo = uint32_t(threshold);
}

bool NonceMeetsThreshold(const uint8_t prefix[kWorkPrefixBytes], uint32_t nonce_hi, uint32_t nonce_lo, uint64_t threshold) {
  const WorkBlock block = MakeWorkBlock(prefix, nonce_hi, nonce_lo);
  uint32_t state[8];
  std::memcpy(state, kSha256Iv, sizeof state);
  CompressScalar(state, block.bytes, 1);
  return ((uint64_t(state[0]) << 32) | state[1]) < threshold;
}

bool SearchNoncesScalar(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  return SearchNonces<ScalarNonceOps, 1>(m, prefix, hi, lo, count, found);
}

}  // namespace powgate
