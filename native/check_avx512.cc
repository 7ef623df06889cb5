// Batch checks on sixteen lanes of AVX-512 (built in the sha256_avx512 target).
#include "check.h"

#if !(defined(__AVX512F__) && defined(__AVX512BW__))
#error "built only in the sha256_avx512 target, with -mavx512f -mavx512bw -mavx512vl"
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC bug 105593, as in sha256_avx512.cc
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <cstring>

#include "check_lanes.h"
#include "simd_avx512.h"

namespace powgate {

namespace {

struct Avx512CheckOps : Avx512Ops {
  static V Load(const uint32_t* words) { return _mm512_load_si512(words); }
  static V Or(V a, V b) { return _mm512_or_si512(a, b); }
  static V Xor(V a, V b) { return _mm512_xor_si512(a, b); }

  // Each row is built in a register (prefix by a byte-masked load, nonce into its
  // 64-bit slot), so nothing is staged through memory.
  static void ProofWords(const ProofBatch& b, const size_t item[kLanes], V w[16]) {
    const V padding = _mm512_load_si512(kWorkBlockPadding.bytes);
    for (int lane = 0; lane < kLanes; lane++) {
      uint64_t nonce;
      std::memcpy(&nonce, b.nonces + kNonceBytes * item[lane], kNonceBytes);
      const V prefix = _mm512_maskz_loadu_epi8((1ULL << kWorkPrefixBytes) - 1, b.prefixes + kWorkPrefixBytes * item[lane]);
      w[lane] = _mm512_or_si512(_mm512_mask_set1_epi64(prefix, 1 << (kWorkPrefixBytes / 8), (long long)nonce), padding);
    }
    RowsToWords(w);
  }

  static void TailWords(const uint8_t* const at[kLanes], size_t rest, const uint8_t* padding, V w[16]) {
    const __mmask64 keep = rest == 0 ? 0 : ~0ULL >> (64 - rest);
    const V pad = _mm512_load_si512(padding);
    for (int lane = 0; lane < kLanes; lane++) w[lane] = _mm512_or_si512(_mm512_maskz_loadu_epi8(keep, at[lane]), pad);
    RowsToWords(w);
  }

  static void TagWords(const uint8_t* macs, const size_t item[kLanes], V t[8]) {
    V rows[16];
    for (int lane = 0; lane < kLanes; lane++) {
      rows[lane] = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(macs + 32 * item[lane])));
    }
    Transpose(rows);
    for (int i = 0; i < 8; i++) t[i] = ByteSwap(rows[i]);
  }

  static uint32_t Below(V h0, V h1, V hi, V lo) {
    return _mm512_cmplt_epu32_mask(h0, hi) | (_mm512_cmpeq_epu32_mask(h0, hi) & _mm512_cmplt_epu32_mask(h1, lo));
  }

  static uint32_t Zero(V x) { return _mm512_cmpeq_epu32_mask(x, _mm512_setzero_si512()); }
};

}  // namespace

void CheckProofsAvx512(const ProofBatch& batch) { CheckProofsLanes<Avx512CheckOps>(batch); }
void CheckMacsAvx512(const MacBatch& batch) { CheckMacsLanes<Avx512CheckOps>(batch); }

}  // namespace powgate
