// The nonce search on sixteen lanes of AVX-512 (built in the sha256_avx512 target).
#include "nonce_search.h"

#if defined(__AVX512F__) && defined(__AVX512BW__)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC bug 105593, as in sha256_avx512.cc
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "nonce_kernel.h"

namespace powgate {

namespace {

struct Avx512Ops {
  using V = __m512i;
  static V Set1(uint32_t x) { return _mm512_set1_epi32(int(x)); }
  static V Add(V a, V b) { return _mm512_add_epi32(a, b); }
  static V Xor3(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
  static V BigSigma0(V a) { return Xor3(_mm512_ror_epi32(a, 2), _mm512_ror_epi32(a, 13), _mm512_ror_epi32(a, 22)); }
  static V BigSigma1(V e) { return Xor3(_mm512_ror_epi32(e, 6), _mm512_ror_epi32(e, 11), _mm512_ror_epi32(e, 25)); }
  static V SmallSigma0(V x) { return Xor3(_mm512_ror_epi32(x, 7), _mm512_ror_epi32(x, 18), _mm512_srli_epi32(x, 3)); }
  static V SmallSigma1(V x) { return Xor3(_mm512_ror_epi32(x, 17), _mm512_ror_epi32(x, 19), _mm512_srli_epi32(x, 10)); }
  static V Ch(V e, V f, V g) { return _mm512_ternarylogic_epi32(e, f, g, 0xca); }
  static V Maj(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0xe8); }
  static V Iota(uint32_t base) {
    return _mm512_add_epi32(Set1(base), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }
  static V Leading(const NonceMidstate& m, uint32_t base) { return LeadingWord<Avx512Ops>(m, Iota(base)); }
  static uint32_t AtMost(V h0, uint32_t limit) { return _mm512_cmple_epu32_mask(h0, Set1(limit)); }
};

}  // namespace

bool SearchNoncesAvx512(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  return SearchNonces<Avx512Ops, 16>(m, prefix, hi, lo, count, found);
}

}  // namespace powgate
#else
#include <cstdlib>
bool powgate::SearchNoncesAvx512(const NonceMidstate&, const uint8_t*, uint32_t, uint32_t, uint32_t, uint32_t*) { std::abort(); }
#endif
