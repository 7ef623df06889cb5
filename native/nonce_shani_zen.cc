// The nonce search with the SHA extensions as tuned on AMD Zen 4/5 (built in the
// sha256_shani target). sha256rnds2's latency there is several times its issue
// interval, so more nonces run interleaved than on Intel; each starts at round 12,
// from the state after round 11 plus its W11 in a and e, and the schedule groups
// W16..19 and (before msg2) W20..23 come from constants plus W11.
#include "nonce_search.h"

#if !(defined(__SHA__) && defined(__SSE4_1__))
#error "built only in the sha256_shani target, with -msha -msse4.1 -mssse3"
#endif
#include <immintrin.h>

#include "nonce_kernel.h"

namespace powgate {

namespace {

constexpr int kStreams = 8;

inline __m128i Words(const uint32_t* w) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(w)); }

// Everything the streams share, from the midstate (groups of four words, W[4g] first).
struct ShaNiPrepared {
  __m128i abef12, cdgh12;  // after round 11, less W11 in a and e; highest element first
  __m128i m2, m3;          // W8..11 with W11 = 0, W12..15
  __m128i g4;              // W16..19 with W11 = 0: W18 is the only one with a W11 term, and it is W11 itself
  __m128i g5_head;         // msg1(W4..7, W8..11) + W13..16: what msg2 turns into W20..23
  __m128i wk3;             // K + W for rounds 12..15

  explicit ShaNiPrepared(const NonceMidstate& m) {
    const uint32_t a = m.a12, b = m.b12, c = m.c12, d = m.d12, e = m.e12, f = m.f12, g = m.g12, h = m.h12;
    abef12 = _mm_set_epi32(int(a), int(b), int(e), int(f));
    cdgh12 = _mm_set_epi32(int(c), int(d), int(g), int(h));
    const __m128i m0 = Words(m.w), m1 = Words(m.w + 4);
    m2 = _mm_insert_epi32(Words(m.w + 8), 0, 3);
    m3 = Words(m.w + 12);
    g4 = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4)), m3);
    g5_head = _mm_add_epi32(_mm_sha256msg1_epu32(m1, m2), _mm_alignr_epi8(g4, m3, 4));
    wk3 = Words(m.kw + 12);
  }
};

struct ShaNiZenOps {
  struct V {
    uint32_t h0[kStreams];
  };
  using Prepared = ShaNiPrepared;

  static uint32_t AtMost(const V& v, uint32_t limit) {
    uint32_t mask = 0;
    for (int s = 0; s < kStreams; s++) mask |= uint32_t(v.h0[s] <= limit) << s;
    return mask;
  }

  static void Leading(const Prepared& p, uint32_t base, V (&out)[1]) {
    __m128i abef[kStreams], cdgh[kStreams], q[kStreams][4];
    for (int s = 0; s < kStreams; s++) {
      const int n = int(base + uint32_t(s));
      abef[s] = _mm_add_epi32(p.abef12, _mm_set_epi32(n, 0, n, 0));
      cdgh[s] = p.cdgh12;
      q[s][2] = _mm_insert_epi32(p.m2, n, 3);
      q[s][3] = p.m3;
      q[s][0] = _mm_add_epi32(p.g4, _mm_set_epi32(0, n, 0, 0));
      q[s][1] = _mm_sha256msg2_epu32(p.g5_head, q[s][0]);
    }
#pragma GCC unroll 13
    for (int g = 3; g < 16; g++) {
      for (int s = 0; s < kStreams; s++) {
        __m128i* w = q[s];
        if (g >= 6) {
          // Group g from the four before it (groups 4 and 5 are set above).
          const __m128i head = _mm_sha256msg1_epu32(w[g & 3], w[(g + 1) & 3]);
          w[g & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(head, _mm_alignr_epi8(w[(g + 3) & 3], w[(g + 2) & 3], 4)), w[(g + 3) & 3]);
        }
        const __m128i wk = g == 3 ? p.wk3 : _mm_add_epi32(w[g & 3], Words(kSha256K + 4 * g));
        cdgh[s] = _mm_sha256rnds2_epu32(cdgh[s], abef[s], wk);
        abef[s] = _mm_sha256rnds2_epu32(abef[s], cdgh[s], _mm_shuffle_epi32(wk, 0x0e));
      }
    }
    for (int s = 0; s < kStreams; s++) out[0].h0[s] = uint32_t(_mm_extract_epi32(abef[s], 3)) + kSha256Iv[0];
  }
};

}  // namespace

bool SearchNoncesShaNiZen(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  return SearchNonces<ShaNiZenOps, kStreams>(m, prefix, hi, lo, count, found);
}

}  // namespace powgate
