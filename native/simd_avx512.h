// SHA-256's boolean functions on sixteen 32-bit lanes. Include only from files
// built in the sha256_avx512 target (-mavx512f -mavx512bw -mavx512vl).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace powgate {

struct Avx512Ops {
  using V = __m512i;
  static constexpr int kLanes = 16;
  static V Set1(uint32_t x) { return _mm512_set1_epi32(int(x)); }
  static V Add(V a, V b) { return _mm512_add_epi32(a, b); }
  // Three-way XOR and the choose/majority functions, one vpternlogd each.
  static V Xor3(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
  static V BigSigma0(V a) { return Xor3(_mm512_ror_epi32(a, 2), _mm512_ror_epi32(a, 13), _mm512_ror_epi32(a, 22)); }
  static V BigSigma1(V e) { return Xor3(_mm512_ror_epi32(e, 6), _mm512_ror_epi32(e, 11), _mm512_ror_epi32(e, 25)); }
  static V SmallSigma0(V x) { return Xor3(_mm512_ror_epi32(x, 7), _mm512_ror_epi32(x, 18), _mm512_srli_epi32(x, 3)); }
  static V SmallSigma1(V x) { return Xor3(_mm512_ror_epi32(x, 17), _mm512_ror_epi32(x, 19), _mm512_srli_epi32(x, 10)); }
  static V Ch(V e, V f, V g) { return _mm512_ternarylogic_epi32(e, f, g, 0xca); }
  static V Maj(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0xe8); }

  static V ByteSwap(V x) { return _mm512_shuffle_epi8(x, _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203)); }

  // rows[i] holds sixteen words of lane i; afterwards rows[j] holds word j of all lanes.
  static void Transpose(V r[16]) {
    V t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
      t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    // Per 128-bit chunk k, u[4g + j] = {r[4g][4k+j], r[4g+1][4k+j], r[4g+2][4k+j], r[4g+3][4k+j]}.
    for (int g = 0; g < 4; g++) {
      V* tg = t + 4 * g;
      u[4 * g + 0] = _mm512_unpacklo_epi64(tg[0], tg[2]);
      u[4 * g + 1] = _mm512_unpackhi_epi64(tg[0], tg[2]);
      u[4 * g + 2] = _mm512_unpacklo_epi64(tg[1], tg[3]);
      u[4 * g + 3] = _mm512_unpackhi_epi64(tg[1], tg[3]);
    }
    // What remains is a 4x4 transpose of 128-bit chunks, for each j.
    for (int j = 0; j < 4; j++) {
      V v0 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x44);
      V v1 = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xee);
      V v2 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x44);
      V v3 = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xee);
      r[j] = _mm512_shuffle_i32x4(v0, v2, 0x88);
      r[4 + j] = _mm512_shuffle_i32x4(v0, v2, 0xdd);
      r[8 + j] = _mm512_shuffle_i32x4(v1, v3, 0x88);
      r[12 + j] = _mm512_shuffle_i32x4(v1, v3, 0xdd);
    }
  }

  // Rows are lanes' 64-byte blocks: transpose to big-endian message words.
  static void RowsToWords(V w[16]) {
    Transpose(w);
    for (int j = 0; j < 16; j++) w[j] = ByteSwap(w[j]);
  }

  static void BlockWords(const uint8_t* const rows[kLanes], V w[16]) {
    for (int lane = 0; lane < kLanes; lane++) w[lane] = _mm512_loadu_si512(rows[lane]);
    RowsToWords(w);
  }
};

}  // namespace powgate
