// Sixteen SHA-256 compressions side by side, one per 32-bit lane of a ZMM register.
// Built with -mavx512f -mavx512bw -mavx512vl in its own target; only called when
// cpuid and xgetbv say so.
#include "sha256.h"

#if defined(__AVX512F__) && defined(__AVX512BW__)
// GCC 12's unpack intrinsics start from _mm512_undefined_epi32() and trip
// -Wuninitialized under -Werror (GCC bug 105593); the warning is spurious.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

namespace powgate {

namespace {

using V = __m512i;

inline V Add(V a, V b) { return _mm512_add_epi32(a, b); }
// Three-way XOR and the choose/majority functions, one vpternlogd each.
inline V Xor3(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0x96); }
inline V Ch(V e, V f, V g) { return _mm512_ternarylogic_epi32(e, f, g, 0xca); }
inline V Maj(V a, V b, V c) { return _mm512_ternarylogic_epi32(a, b, c, 0xe8); }

// rows[i] holds sixteen words of lane i; afterwards rows[j] holds word j of all lanes.
inline void Transpose16x16(V r[16]) {
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

// 64 rounds on sixteen lanes; w[] holds the byte-swapped message words and is consumed.
inline void Compress(V s[8], V w[16]) {
  V a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 64
  for (int i = 0; i < 64; i++) {
    if (i >= 16) {
      V w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
      V s0 = Xor3(_mm512_ror_epi32(w15, 7), _mm512_ror_epi32(w15, 18), _mm512_srli_epi32(w15, 3));
      V s1 = Xor3(_mm512_ror_epi32(w2, 17), _mm512_ror_epi32(w2, 19), _mm512_srli_epi32(w2, 10));
      w[i & 15] = Add(Add(w[i & 15], s0), Add(w[(i - 7) & 15], s1));
    }
    V sigma1 = Xor3(_mm512_ror_epi32(e, 6), _mm512_ror_epi32(e, 11), _mm512_ror_epi32(e, 25));
    V t1 = Add(Add(h, sigma1), Add(Ch(e, f, g), Add(w[i & 15], _mm512_set1_epi32(int(kSha256K[i])))));
    V sigma0 = Xor3(_mm512_ror_epi32(a, 2), _mm512_ror_epi32(a, 13), _mm512_ror_epi32(a, 22));
    V maj = Maj(a, b, c);
    h = g;
    g = f;
    f = e;
    e = Add(d, t1);
    d = c;
    c = b;
    b = a;
    a = Add(t1, Add(sigma0, maj));
  }
  s[0] = Add(s[0], a);
  s[1] = Add(s[1], b);
  s[2] = Add(s[2], c);
  s[3] = Add(s[3], d);
  s[4] = Add(s[4], e);
  s[5] = Add(s[5], f);
  s[6] = Add(s[6], g);
  s[7] = Add(s[7], h);
}

inline V ByteSwap(V x) {
  return _mm512_shuffle_epi8(x, _mm512_set4_epi32(0x0c0d0e0f, 0x08090a0b, 0x04050607, 0x00010203));
}

// Rows are lanes' blocks: transpose to words and byte-swap.
inline void RowsToWords(V w[16]) {
  Transpose16x16(w);
  for (int j = 0; j < 16; j++) w[j] = ByteSwap(w[j]);
}

}  // namespace

void CompressAvx512x16(uint32_t* state, const uint8_t* const blocks[kAvx512Lanes]) {
  V w[16], s[8];
  for (size_t lane = 0; lane < kAvx512Lanes; lane++) w[lane] = _mm512_loadu_si512(blocks[lane]);
  RowsToWords(w);
  for (int i = 0; i < 8; i++) s[i] = _mm512_loadu_si512(state + kAvx512Lanes * i);
  Compress(s, w);
  for (int i = 0; i < 8; i++) _mm512_storeu_si512(state + kAvx512Lanes * i, s[i]);
}

void HashUniformAvx512(const uint8_t* data, size_t length, size_t count, uint8_t* out) {
  // Equal lengths share one padding: the tail is the message's last `rest` bytes,
  // read with a byte mask (no reads past the data), OR a template holding 0x80
  // and the bit length. Nothing is staged through memory.
  const size_t whole = length / 64, rest = length % 64;
  const size_t tail_blocks = rest + 9 <= 64 ? 1 : 2;
  alignas(64) uint8_t pad[128] = {};
  pad[rest] = 0x80;
  const uint64_t bits = uint64_t(length) * 8;
  StoreBe32(pad + 64 * tail_blocks - 8, uint32_t(bits >> 32));
  StoreBe32(pad + 64 * tail_blocks - 4, uint32_t(bits));
  const __mmask64 keep = rest == 0 ? 0 : ~0ULL >> (64 - rest);
  const V pad0 = _mm512_load_si512(pad), pad1 = _mm512_load_si512(pad + 64);

  for (size_t first = 0; first < count; first += kAvx512Lanes) {
    const size_t lanes = count - first < kAvx512Lanes ? count - first : kAvx512Lanes;
    // Spare lanes of the last group repeat the group's first message; their digests are dropped.
    const uint8_t* start[kAvx512Lanes];
    for (size_t lane = 0; lane < kAvx512Lanes; lane++) {
      start[lane] = data + (first + (lane < lanes ? lane : 0)) * length;
    }
    V s[8], w[16];
    for (int i = 0; i < 8; i++) s[i] = _mm512_set1_epi32(int(kSha256Iv[i]));
    for (size_t blk = 0; blk < whole; blk++) {
      for (size_t lane = 0; lane < kAvx512Lanes; lane++) w[lane] = _mm512_loadu_si512(start[lane] + 64 * blk);
      RowsToWords(w);
      Compress(s, w);
    }
    for (size_t lane = 0; lane < kAvx512Lanes; lane++) {
      w[lane] = _mm512_or_si512(_mm512_maskz_loadu_epi8(keep, start[lane] + 64 * whole), pad0);
    }
    RowsToWords(w);
    Compress(s, w);
    if (tail_blocks == 2) {
      for (size_t lane = 0; lane < kAvx512Lanes; lane++) w[lane] = pad1;
      RowsToWords(w);
      Compress(s, w);
    }
    // Back from words to lanes: transpose with eight empty rows, keep 32 bytes a lane.
    V d[16];
    for (int i = 0; i < 8; i++) d[i] = ByteSwap(s[i]);
    for (int i = 8; i < 16; i++) d[i] = _mm512_setzero_si512();
    Transpose16x16(d);
    for (size_t lane = 0; lane < lanes; lane++) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * (first + lane)), _mm512_castsi512_si256(d[lane]));
    }
  }
}

}  // namespace powgate
#else
#include <cstdlib>
void powgate::CompressAvx512x16(uint32_t*, const uint8_t* const*) { std::abort(); }
void powgate::HashUniformAvx512(const uint8_t*, size_t, size_t, uint8_t*) { std::abort(); }
#endif
