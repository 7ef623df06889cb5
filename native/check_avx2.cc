// Batch checks on eight lanes of AVX2 (built in the sha256_avx2 target).
#include "check.h"

#if !(defined(__AVX2__))
#error "built only in the sha256_avx2 target, with -mavx2"
#endif
#include <cstring>

#include "check_lanes.h"
#include "simd_avx2.h"

namespace powgate {

namespace {

struct Avx2CheckOps : Avx2Ops {
  static V Load(const uint32_t* words) { return _mm256_load_si256(reinterpret_cast<const V*>(words)); }
  static V Or(V a, V b) { return _mm256_or_si256(a, b); }
  static V Xor(V a, V b) { return _mm256_xor_si256(a, b); }

  // Second half of a proof's block: prefix bytes 32..39, the nonce, and the work block's padding.
  static void ProofWords(const ProofBatch& b, const size_t item[kLanes], V w[16]) {
    uint64_t pad48, pad56;
    std::memcpy(&pad48, kWorkBlockPadding.bytes + kWorkMessageBytes, 8);
    std::memcpy(&pad56, kWorkBlockPadding.bytes + kWorkMessageBytes + 8, 8);
    for (int lane = 0; lane < kLanes; lane++) {
      const uint8_t* prefix = b.prefixes + kWorkPrefixBytes * item[lane];
      uint64_t tail, nonce;
      std::memcpy(&tail, prefix + 32, 8);
      std::memcpy(&nonce, b.nonces + kNonceBytes * item[lane], kNonceBytes);
      w[lane] = _mm256_loadu_si256(reinterpret_cast<const V*>(prefix));
      w[8 + lane] = _mm256_set_epi64x((long long)pad56, (long long)pad48, (long long)nonce, (long long)tail);
    }
    HalvesToWords(w);
  }

  // AVX2 has no byte-masked load: the tails go through a small buffer.
  static void TailWords(const uint8_t* const at[kLanes], size_t rest, const uint8_t* padding, V w[16]) {
    alignas(32) uint8_t rows[kLanes][64];
    const uint8_t* row[kLanes];
    for (int lane = 0; lane < kLanes; lane++) {
      std::memcpy(rows[lane], padding, 64);
      if (rest > 0) std::memcpy(rows[lane], at[lane], rest);
      row[lane] = rows[lane];
    }
    BlockWords(row, w);
  }

  static void TagWords(const uint8_t* macs, const size_t item[kLanes], V t[8]) {
    for (int lane = 0; lane < kLanes; lane++) t[lane] = _mm256_loadu_si256(reinterpret_cast<const V*>(macs + 32 * item[lane]));
    Transpose(t);
    for (int i = 0; i < 8; i++) t[i] = ByteSwap(t[i]);
  }

  static uint32_t Mask(V x) { return uint32_t(_mm256_movemask_ps(_mm256_castsi256_ps(x))); }

  // AVX2 compares signed only: flipping the sign bits makes it unsigned.
  static uint32_t Below(V h0, V h1, V hi, V lo) {
    const V flip = Set1(0x80000000u);
    const V before = _mm256_cmpgt_epi32(_mm256_xor_si256(hi, flip), _mm256_xor_si256(h0, flip));
    const V tie = _mm256_cmpeq_epi32(h0, hi);
    const V low = _mm256_cmpgt_epi32(_mm256_xor_si256(lo, flip), _mm256_xor_si256(h1, flip));
    return Mask(_mm256_or_si256(before, _mm256_and_si256(tie, low)));
  }

  static uint32_t Zero(V x) { return Mask(_mm256_cmpeq_epi32(x, _mm256_setzero_si256())); }
};

}  // namespace

void CheckProofsAvx2(const ProofBatch& batch) { CheckProofsLanes<Avx2CheckOps>(batch); }
void CheckMacsAvx2(const MacBatch& batch) { CheckMacsLanes<Avx2CheckOps>(batch); }

}  // namespace powgate
