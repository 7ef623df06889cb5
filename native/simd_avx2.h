// SHA-256's boolean functions on eight 32-bit lanes. Include only from files
// built in the sha256_avx2 target (-mavx2).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace powgate {

struct Avx2Ops {
  using V = __m256i;
  static constexpr int kLanes = 8;
  template <int N>
  static V Rotr(V x) {
    return _mm256_or_si256(_mm256_srli_epi32(x, N), _mm256_slli_epi32(x, 32 - N));
  }
  static V Xor3(V a, V b, V c) { return _mm256_xor_si256(_mm256_xor_si256(a, b), c); }
  static V Set1(uint32_t x) { return _mm256_set1_epi32(int(x)); }
  static V Add(V a, V b) { return _mm256_add_epi32(a, b); }
  static V BigSigma0(V a) { return Xor3(Rotr<2>(a), Rotr<13>(a), Rotr<22>(a)); }
  static V BigSigma1(V e) { return Xor3(Rotr<6>(e), Rotr<11>(e), Rotr<25>(e)); }
  static V SmallSigma0(V x) { return Xor3(Rotr<7>(x), Rotr<18>(x), _mm256_srli_epi32(x, 3)); }
  static V SmallSigma1(V x) { return Xor3(Rotr<17>(x), Rotr<19>(x), _mm256_srli_epi32(x, 10)); }
  static V Ch(V e, V f, V g) { return _mm256_xor_si256(g, _mm256_and_si256(e, _mm256_xor_si256(f, g))); }
  static V Maj(V a, V b, V c) { return _mm256_xor_si256(b, _mm256_and_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(b, c))); }

  static V ByteSwap(V x) {
    return _mm256_shuffle_epi8(
        x, _mm256_setr_epi8(3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12));
  }

  // rows[i] holds eight words of lane i; afterwards rows[j] holds word j of all lanes.
  static void Transpose(V r[8]) {
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

  // Each 64-byte row is two halves of eight words: transpose each to big-endian message words.
  static void HalvesToWords(V w[16]) {
    Transpose(w);
    Transpose(w + 8);
    for (int j = 0; j < 16; j++) w[j] = ByteSwap(w[j]);
  }

  static void BlockWords(const uint8_t* const rows[kLanes], V w[16]) {
    for (int lane = 0; lane < kLanes; lane++) {
      w[lane] = _mm256_loadu_si256(reinterpret_cast<const V*>(rows[lane]));
      w[8 + lane] = _mm256_loadu_si256(reinterpret_cast<const V*>(rows[lane] + 32));
    }
    HalvesToWords(w);
  }
};

}  // namespace powgate
