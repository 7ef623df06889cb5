// The nonce search on eight lanes of AVX2 (built in the sha256_avx2 target).
#include "nonce_search.h"

#if !(defined(__AVX2__))
#error "built only in the sha256_avx2 target, with -mavx2"
#endif
#include "nonce_kernel.h"
#include "simd_avx2.h"

namespace powgate {

namespace {

struct Avx2NonceOps : Avx2Ops {
  static V Iota(uint32_t base) { return _mm256_add_epi32(Set1(base), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  // Unsigned h0 <= limit: max(h0, limit) == limit.
  static uint32_t AtMost(V h0, uint32_t limit) {
    const V l = Set1(limit);
    return uint32_t(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_max_epu32(h0, l), l))));
  }
  using Prepared = NonceMidstate;
  static void Leading(const NonceMidstate& m, uint32_t base, V (&h0)[1]) { h0[0] = LeadingWord<Avx2NonceOps>(m, Iota(base)); }
};

}  // namespace

bool SearchNoncesAvx2(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  return SearchNonces<Avx2NonceOps, 8>(m, prefix, hi, lo, count, found);
}

}  // namespace powgate
