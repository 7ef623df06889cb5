// The nonce search with the SHA extensions (built in the sha256_shani target):
// rounds 10..63 for several nonces at once, interleaved so that sha256rnds2's
// latency overlaps. Rounds 0..9, the constant message groups and the message
// expansions that do not reach W11 are precomputed.
#include "nonce_search.h"

#if !(defined(__SHA__) && defined(__SSE4_1__))
#error "built only in the sha256_shani target, with -msha -msse4.1 -mssse3"
#endif
#include <immintrin.h>

#include "nonce_kernel.h"

namespace powgate {

namespace {

constexpr int kStreams = 2;

inline __m128i Words(const uint32_t* w) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(w)); }

struct ShaNiOps {
  using V = __m128i;  // lane s holds stream s's H0
  static uint32_t AtMost(V h0, uint32_t limit) {
    const V l = _mm_set1_epi32(int(limit));
    return uint32_t(_mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(_mm_max_epu32(h0, l), l)))) & ((1u << kStreams) - 1);
  }

  using Prepared = NonceMidstate;
  static void Leading(const NonceMidstate& m, uint32_t base, V (&h0)[1]) { h0[0] = Leading1(m, base); }
  static V Leading1(const NonceMidstate& m, uint32_t base) {
    // (a,b,e,f) and (c,d,g,h), highest element first, as sha256rnds2 wants them.
    const uint32_t* s10 = m.state10;
    const V abef10 = _mm_set_epi32(int(s10[0]), int(s10[1]), int(s10[4]), int(s10[5]));
    const V cdgh10 = _mm_set_epi32(int(s10[2]), int(s10[3]), int(s10[6]), int(s10[7]));
    const V m0 = Words(m.w), m1 = Words(m.w + 4), m2 = Words(m.w + 8), m3 = Words(m.w + 12);
    // msg1(a, b) reads all of a and only b's first word, so neither of these reaches W11.
    const V m01 = _mm_sha256msg1_epu32(m0, m1), m12 = _mm_sha256msg1_epu32(m1, m2);
    const V wk3 = Words(m.kw + 12);
    V abef[kStreams], cdgh[kStreams], msg[kStreams][4];
    for (int s = 0; s < kStreams; s++) {
      // Entering at the second sha256rnds2 of group 2, whose operands are (CDGH, ABEF).
      abef[s] = cdgh10;
      cdgh[s] = abef10;
      msg[s][0] = m0;
      msg[s][1] = m1;
      msg[s][2] = _mm_insert_epi32(m2, int(base + uint32_t(s)), 3);
      msg[s][3] = m3;
    }
#pragma GCC unroll 14
    for (int g = 2; g < 16; g++) {
      for (int s = 0; s < kStreams; s++) {
        V* q = msg[s];
        if (g >= 4) {
          // Group g from the four before it; the msg1 results that do not reach W11 are done once.
          const V head = g == 4 ? m01 : g == 5 ? m12 : _mm_sha256msg1_epu32(q[g & 3], q[(g + 1) & 3]);
          q[g & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(head, _mm_alignr_epi8(q[(g + 3) & 3], q[(g + 2) & 3], 4)), q[(g + 3) & 3]);
        }
        const V wk = g == 3 ? wk3 : _mm_add_epi32(q[g & 3], Words(kSha256K + 4 * g));
        if (g > 2) cdgh[s] = _mm_sha256rnds2_epu32(cdgh[s], abef[s], wk);  // rounds 8, 9 are in state10
        abef[s] = _mm_sha256rnds2_epu32(abef[s], cdgh[s], _mm_shuffle_epi32(wk, 0x0e));
      }
    }
    alignas(16) uint32_t h0[4] = {};
    for (int s = 0; s < kStreams; s++) h0[s] = uint32_t(_mm_extract_epi32(abef[s], 3)) + kSha256Iv[0];
    return _mm_load_si128(reinterpret_cast<const __m128i*>(h0));
  }
};

}  // namespace

bool SearchNoncesShaNi(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  return SearchNonces<ShaNiOps, kStreams>(m, prefix, hi, lo, count, found);
}

}  // namespace powgate
