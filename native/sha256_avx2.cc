// Eight SHA-256 compressions side by side, one per 32-bit lane of a YMM register.
// Built with -mavx2 in its own target; only called when cpuid says so.
#include "sha256.h"

#if defined(__AVX2__)
#include <immintrin.h>

namespace powgate {

namespace {

using V = __m256i;

inline V Add(V a, V b) { return _mm256_add_epi32(a, b); }
inline V Xor(V a, V b) { return _mm256_xor_si256(a, b); }
template <int N>
inline V Rotr(V x) { return _mm256_or_si256(_mm256_srli_epi32(x, N), _mm256_slli_epi32(x, 32 - N)); }

// rows[i] holds eight words of lane i; afterwards rows[j] holds word j of all lanes.
inline void Transpose8x8(V r[8]) {
  V t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  V t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  V t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  V t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  V s0 = _mm256_unpacklo_epi64(t0, t2), s1 = _mm256_unpackhi_epi64(t0, t2);
  V s2 = _mm256_unpacklo_epi64(t1, t3), s3 = _mm256_unpackhi_epi64(t1, t3);
  V s4 = _mm256_unpacklo_epi64(t4, t6), s5 = _mm256_unpackhi_epi64(t4, t6);
  V s6 = _mm256_unpacklo_epi64(t5, t7), s7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(s0, s4, 0x20);
  r[1] = _mm256_permute2x128_si256(s1, s5, 0x20);
  r[2] = _mm256_permute2x128_si256(s2, s6, 0x20);
  r[3] = _mm256_permute2x128_si256(s3, s7, 0x20);
  r[4] = _mm256_permute2x128_si256(s0, s4, 0x31);
  r[5] = _mm256_permute2x128_si256(s1, s5, 0x31);
  r[6] = _mm256_permute2x128_si256(s2, s6, 0x31);
  r[7] = _mm256_permute2x128_si256(s3, s7, 0x31);
}

}  // namespace

void CompressAvx2x8(uint32_t* state, const uint8_t* const blocks[kAvx2Lanes]) {
  const V bswap = _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12,
                                   3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
  V w[16];
  for (int half = 0; half < 2; half++) {
    V* r = w + 8 * half;
    for (size_t lane = 0; lane < kAvx2Lanes; lane++) {
      r[lane] = _mm256_loadu_si256(reinterpret_cast<const V*>(blocks[lane] + 32 * half));
    }
    Transpose8x8(r);
    for (int j = 0; j < 8; j++) r[j] = _mm256_shuffle_epi8(r[j], bswap);
  }

  V s[8];
  for (int i = 0; i < 8; i++) s[i] = _mm256_loadu_si256(reinterpret_cast<const V*>(state + kAvx2Lanes * i));
  V a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];

#pragma GCC unroll 64
  for (int i = 0; i < 64; i++) {
    if (i >= 16) {
      V w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
      V s0 = Xor(Xor(Rotr<7>(w15), Rotr<18>(w15)), _mm256_srli_epi32(w15, 3));
      V s1 = Xor(Xor(Rotr<17>(w2), Rotr<19>(w2)), _mm256_srli_epi32(w2, 10));
      w[i & 15] = Add(Add(w[i & 15], s0), Add(w[(i - 7) & 15], s1));
    }
    V sigma1 = Xor(Xor(Rotr<6>(e), Rotr<11>(e)), Rotr<25>(e));
    V ch = Xor(_mm256_and_si256(e, f), _mm256_andnot_si256(e, g));
    V t1 = Add(Add(h, sigma1), Add(ch, Add(w[i & 15], _mm256_set1_epi32(int(kSha256K[i])))));
    V sigma0 = Xor(Xor(Rotr<2>(a), Rotr<13>(a)), Rotr<22>(a));
    V maj = Xor(b, _mm256_and_si256(Xor(a, b), Xor(b, c)));
    h = g;
    g = f;
    f = e;
    e = Add(d, t1);
    d = c;
    c = b;
    b = a;
    a = Add(t1, Add(sigma0, maj));
  }

  const V out[8] = {a, b, c, d, e, f, g, h};
  for (int i = 0; i < 8; i++) {
    _mm256_storeu_si256(reinterpret_cast<V*>(state + kAvx2Lanes * i), Add(s[i], out[i]));
  }
}

}  // namespace powgate
#else
#include <cstdlib>
void powgate::CompressAvx2x8(uint32_t*, const uint8_t* const*) { std::abort(); }
#endif
