// Sixteen SHA-256 compressions side by side, one per 32-bit lane of a ZMM register.
// Built with -mavx512f -mavx512bw -mavx512vl in its own target; only called when
// cpuid and xgetbv say so.
#include "sha256.h"

#if !(defined(__AVX512F__) && defined(__AVX512BW__))
#error "built only in the sha256_avx512 target, with -mavx512f -mavx512bw -mavx512vl"
#endif
// GCC 12's unpack intrinsics start from _mm512_undefined_epi32() and trip
// -Wuninitialized under -Werror (GCC bug 105593); the warning is spurious.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "sha256_lanes.h"
#include "simd_avx512.h"

namespace powgate {

namespace {
using Ops = Avx512Ops;
using V = Ops::V;
}  // namespace

void CompressAvx512x16(uint32_t* state, const uint8_t* const blocks[kAvx512Lanes]) {
  V w[16], s[8];
  Ops::BlockWords(blocks, w);
  for (int i = 0; i < 8; i++) s[i] = _mm512_loadu_si512(state + kAvx512Lanes * i);
  CompressLanes<Ops>(s, w);
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
      Ops::RowsToWords(w);
      CompressLanes<Ops>(s, w);
    }
    for (size_t lane = 0; lane < kAvx512Lanes; lane++) {
      w[lane] = _mm512_or_si512(_mm512_maskz_loadu_epi8(keep, start[lane] + 64 * whole), pad0);
    }
    Ops::RowsToWords(w);
    CompressLanes<Ops>(s, w);
    if (tail_blocks == 2) {
      for (size_t lane = 0; lane < kAvx512Lanes; lane++) w[lane] = pad1;
      Ops::RowsToWords(w);
      CompressLanes<Ops>(s, w);
    }
    // Back from words to lanes: transpose with eight empty rows, keep 32 bytes a lane.
    V d[16];
    for (int i = 0; i < 8; i++) d[i] = Ops::ByteSwap(s[i]);
    for (int i = 8; i < 16; i++) d[i] = _mm512_setzero_si512();
    Ops::Transpose(d);
    for (size_t lane = 0; lane < lanes; lane++) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 32 * (first + lane)), _mm512_castsi512_si256(d[lane]));
    }
  }
}

}  // namespace powgate
