// The nonce search on sixteen lanes of AVX-512 (built in the sha256_avx512 target),
// one vector of lanes at a time: the kernel tuned on Intel Xeon.
#include "nonce_search.h"

#if !(defined(__AVX512F__) && defined(__AVX512BW__))
#error "built only in the sha256_avx512 target, with -mavx512f -mavx512bw -mavx512vl"
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC bug 105593, as in sha256_avx512.cc
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "nonce_kernel.h"
#include "simd_avx512.h"

namespace powgate {

namespace {

struct Avx512NonceOps : Avx512Ops {
  static V Iota(uint32_t base) {
    return _mm512_add_epi32(Set1(base), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }
  using Prepared = NonceMidstate;
  static void Leading(const NonceMidstate& m, uint32_t base, V (&h0)[1]) { h0[0] = LeadingWord<Avx512NonceOps>(m, Iota(base)); }
  static uint32_t AtMost(V h0, uint32_t limit) { return _mm512_cmple_epu32_mask(h0, Set1(limit)); }
};

}  // namespace

bool SearchNoncesAvx512(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  return SearchNonces<Avx512NonceOps, 16>(m, prefix, hi, lo, count, found);
}

}  // namespace powgate
