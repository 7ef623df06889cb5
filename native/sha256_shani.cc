// SHA-256 with the x86 SHA extensions: two rounds per sha256rnds2.
// Built with -msha -msse4.1 -mssse3 in its own target; only called when cpuid says so.
#include "sha256.h"

#if !(defined(__SHA__) && defined(__SSE4_1__))
#error "built only in the sha256_shani target, with -msha -msse4.1 -mssse3"
#endif
#include "simd_shani.h"

namespace powgate {

void CompressShaNi(uint32_t state[8], const uint8_t* blocks, size_t count) {
  // The instructions want the state as (a,b,e,f) and (c,d,g,h).
  __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
  __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));
  __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
  __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);

  for (size_t blk = 0; blk < count; blk++, blocks += 64) {
    const __m128i abef_in = abef, cdgh_in = cdgh;
    __m128i m[4];
    for (int j = 0; j < 4; j++) {
      m[j] = ShaNiByteSwap(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + 16 * j)));
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
      if (i >= 4) m[i & 3] = ShaNiSchedule(m[i & 3], m[(i + 1) & 3], m[(i + 2) & 3], m[(i + 3) & 3]);
      ShaNiRounds4(abef, cdgh, m[i & 3], i);
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }

  __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state), _mm_blend_epi16(feba, dchg, 0xf0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4), _mm_alignr_epi8(dchg, feba, 8));
}

}  // namespace powgate
