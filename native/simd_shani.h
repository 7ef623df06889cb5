// Building blocks of SHA-256 with the x86 SHA extensions. Include only from files
// built in the sha256_shani target (-msha -msse4.1 -mssse3).
#pragma once

#include <immintrin.h>

#include "sha256.h"

namespace powgate {

// Four rounds with message words `msg` (already byte-swapped) and constants K[4i..4i+3].
inline void ShaNiRounds4(__m128i& abef, __m128i& cdgh, __m128i msg, int i) {
  __m128i wk = _mm_add_epi32(msg, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kSha256K + 4 * i)));
  cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
  abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
}

// Next four schedule words from the previous sixteen (m0 oldest).
inline __m128i ShaNiSchedule(__m128i m0, __m128i m1, __m128i m2, __m128i m3) {
  __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4));
  return _mm_sha256msg2_epu32(t, m3);
}

// Big-endian words of 16 bytes.
inline __m128i ShaNiByteSwap(__m128i x) { return _mm_shuffle_epi8(x, _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL)); }

}  // namespace powgate
