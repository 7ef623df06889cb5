// The proof check with the SHA extensions (built in the sha256_shani target):
// several proofs' rounds interleaved, so that sha256rnds2's latency overlaps.
#include "check.h"

#if !(defined(__SHA__) && defined(__SSE4_1__))
#error "built only in the sha256_shani target, with -msha -msse4.1 -mssse3"
#endif
#include "simd_shani.h"

namespace powgate {

namespace {

constexpr size_t kStreams = 2;

inline __m128i Load16(const uint8_t* p) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)); }
inline __m128i Load8(const uint8_t* p) { return _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)); }

}  // namespace

void CheckProofsShaNi(const ProofBatch& b) {
  const uint32_t* iv = kSha256Iv;
  const __m128i abef_iv = _mm_set_epi32(int(iv[0]), int(iv[1]), int(iv[4]), int(iv[5]));
  const __m128i cdgh_iv = _mm_set_epi32(int(iv[2]), int(iv[3]), int(iv[6]), int(iv[7]));
  // W12..W15: the work block's padding.
  const __m128i padding = _mm_set_epi32(int(kWorkMessageBits), 0, 0, int(kWorkPadWord));
  for (size_t first = 0; first < b.count; first += kStreams) {
    size_t item[kStreams];
    __m128i abef[kStreams], cdgh[kStreams], m[kStreams][4];
    for (size_t s = 0; s < kStreams; s++) {
      // A missing last stream repeats the first; its verdict is dropped.
      item[s] = first + s < b.count ? first + s : first;
      const uint8_t* prefix = b.prefixes + kWorkPrefixBytes * item[s];
      m[s][0] = ShaNiByteSwap(Load16(prefix));
      m[s][1] = ShaNiByteSwap(Load16(prefix + 16));
      m[s][2] = ShaNiByteSwap(_mm_unpacklo_epi64(Load8(prefix + 32), Load8(b.nonces + 8 * item[s])));
      m[s][3] = padding;
      abef[s] = abef_iv;
      cdgh[s] = cdgh_iv;
    }
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) {
      for (size_t s = 0; s < kStreams; s++) {
        __m128i* q = m[s];
        if (i >= 4) q[i & 3] = ShaNiSchedule(q[i & 3], q[(i + 1) & 3], q[(i + 2) & 3], q[(i + 3) & 3]);
        ShaNiRounds4(abef[s], cdgh[s], q[i & 3], i);
      }
    }
    for (size_t s = 0; s < kStreams && first + s < b.count; s++) {
      const __m128i h = _mm_add_epi32(abef[s], abef_iv);  // (H0, H1, H4, H5), H0 highest
      const uint64_t digest = (uint64_t(uint32_t(_mm_extract_epi32(h, 3))) << 32) | uint32_t(_mm_extract_epi32(h, 2));
      b.verdicts[first + s] = digest < LoadBe64(b.thresholds + 8 * item[s]) ? 1 : 0;
    }
  }
}

}  // namespace powgate
