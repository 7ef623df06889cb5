// Eight SHA-256 compressions side by side, one per 32-bit lane of a YMM register.
// Built with -mavx2 in its own target; only called when cpuid says so.
#include "sha256.h"

#if !(defined(__AVX2__))
#error "built only in the sha256_avx2 target, with -mavx2"
#endif
#include "sha256_lanes.h"
#include "simd_avx2.h"

namespace powgate {

void CompressAvx2x8(uint32_t* state, const uint8_t* const blocks[kAvx2Lanes]) {
  using V = Avx2Ops::V;
  V w[16], s[8];
  Avx2Ops::BlockWords(blocks, w);
  for (int i = 0; i < 8; i++) s[i] = _mm256_loadu_si256(reinterpret_cast<const V*>(state + kAvx2Lanes * i));
  CompressLanes<Avx2Ops>(s, w);
  for (int i = 0; i < 8; i++) _mm256_storeu_si256(reinterpret_cast<V*>(state + kAvx2Lanes * i), s[i]);
}

}  // namespace powgate
