// The nonce search on eight lanes of AVX2 (built in the sha256_avx2 target).
#include "nonce_search.h"

#if defined(__AVX2__)
#include <immintrin.h>

#include "nonce_kernel.h"

namespace powgate {

namespace {

struct Avx2Ops {
  using V = __m256i;
  template <int N>
  static V Rotr(V x) { return _mm256_or_si256(_mm256_srli_epi32(x, N), _mm256_slli_epi32(x, 32 - N)); }
  static V Xor3(V a, V b, V c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
  static V Set1(uint32_t x) { return _mm256_set1_epi32(int(x)); }
  static V Add(V a, V b) { return _mm256_add_epi32(a, b); }
  static V BigSigma0(V a) { return Xor3(Rotr<2>(a), Rotr<13>(a), Rotr<22>(a)); }
  static V BigSigma1(V e) { return Xor3(Rotr<6>(e), Rotr<11>(e), Rotr<25>(e)); }
  static V SmallSigma0(V x) { return Xor3(Rotr<7>(x), Rotr<18>(x), _mm256_srli_epi32(x, 3)); }
  static V SmallSigma1(V x) { return Xor3(Rotr<17>(x), Rotr<19>(x), _mm256_srli_epi32(x, 10)); }
  static V Ch(V e, V f, V g) { return _mm256_xor_si256(g, _mm256_and_si256(e, _mm256_xor_si256(f, g))); }
  static V Maj(V a, V b, V c) { return _mm256_xor_si256(b, _mm256_and_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(b, c))); }
  static V Iota(uint32_t base) { return _mm256_add_epi32(Set1(base), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
  // Unsigned h0 <= limit: max(h0, limit) == limit.
  static uint32_t AtMost(V h0, uint32_t limit) {
    const V l = Set1(limit);
    return uint32_t(_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_max_epu32(h0, l), l))));
  }
  static V Leading(const NonceMidstate& m, uint32_t base) { return LeadingWord<Avx2Ops>(m, Iota(base)); }
};

}  // namespace

bool SearchNoncesAvx2(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  return SearchNonces<Avx2Ops, 8>(m, prefix, hi, lo, count, found);
}

}  // namespace powgate
#else
#include <cstdlib>
bool powgate::SearchNoncesAvx2(const NonceMidstate&, const uint8_t*, uint32_t, uint32_t, uint32_t, uint32_t*) { std::abort(); }
#endif
