// Nonce search: the protocol's 48-byte work message (docs/PROTOCOL.md) is one
// SHA-256 block whose only varying word, per lane, is W11 (the nonce's low half).
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire.h"

namespace powgate {

// Everything about one (prefix, nonce high word, threshold) that no lane changes:
// the state after rounds 0..10, round 11 folded to "+ W11", and every
// message-schedule term that does not depend on W11.
struct NonceMidstate {
  uint32_t state10[8];  // a..h after rounds 0..9 (SHA-NI starts there)
  uint32_t a12, e12;    // a and e after round 11, less W11
  uint32_t b12, c12, d12, f12, g12, h12;
  uint32_t w[64];   // constant W[i], or the constant part of a varying W[i]
  uint32_t kw[64];  // K[i] + W[i] where W[i] is constant
  uint32_t threshold_hi, threshold_lo;
};

// Which schedule words depend on W11: 11, 18, 20, 22 and 24..63 (by propagation
// through W[i] = s1(W[i-2]) + W[i-7] + s0(W[i-15]) + W[i-16]).
constexpr bool VariesWithNonce(int i) { return i == 11 || i == 18 || i == 20 || i == 22 || i >= 24; }

void PrepareMidstate(const uint8_t prefix[kWorkPrefixBytes], uint32_t nonce_hi, uint64_t threshold, NonceMidstate* m);

// The plain check every hit is re-checked with: SHA-256 of the whole message.
bool NonceMeetsThreshold(const uint8_t prefix[kWorkPrefixBytes], uint32_t nonce_hi, uint32_t nonce_lo, uint64_t threshold);

// Kernels: try low words lo .. lo + count - 1 (lo + count <= 2^32); on a hit,
// store the lowest qualifying low word in *found and return true.
using NonceSearchFn = bool (*)(const NonceMidstate& m, const uint8_t* prefix, uint32_t nonce_hi, uint32_t lo, uint32_t count,
                               uint32_t* found);
bool SearchNoncesScalar(const NonceMidstate&, const uint8_t*, uint32_t, uint32_t, uint32_t, uint32_t*);
bool SearchNoncesShaNi(const NonceMidstate&, const uint8_t*, uint32_t, uint32_t, uint32_t, uint32_t*);
bool SearchNoncesAvx2(const NonceMidstate&, const uint8_t*, uint32_t, uint32_t, uint32_t, uint32_t*);
bool SearchNoncesAvx512(const NonceMidstate&, const uint8_t*, uint32_t, uint32_t, uint32_t, uint32_t*);
// The same contract, tuned on AMD Zen 4/5 (cpu_features.h says when they serve).
bool SearchNoncesShaNiZen(const NonceMidstate&, const uint8_t*, uint32_t, uint32_t, uint32_t, uint32_t*);
bool SearchNoncesAvx512Zen(const NonceMidstate&, const uint8_t*, uint32_t, uint32_t, uint32_t, uint32_t*);

}  // namespace powgate
