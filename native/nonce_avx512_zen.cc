// The nonce search on AVX-512 as tuned on AMD Zen 4/5 (built in the sha256_avx512
// target): two independent vectors of sixteen lanes interleaved, since one vector's
// rounds form a dependency chain that leaves the vector units idle; the constant
// words broadcast once per call; the round sums kept in the order that shortens
// the chain (LeadingWords in nonce_kernel.h).
#if defined(__GNUC__) && !defined(__clang__)
// GCC's reassociation would regroup the round sums into a longer chain; clang keeps them.
#pragma GCC optimize("no-tree-reassoc")
#endif
#include "nonce_search.h"

#if !(defined(__AVX512F__) && defined(__AVX512BW__))
#error "built only in the sha256_avx512 target, with -mavx512f -mavx512bw -mavx512vl"
#endif
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC bug 105593, as in sha256_avx512.cc
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "nonce_kernel.h"
#include "simd_avx512.h"

namespace powgate {

namespace {

constexpr int kStreams = 2;

struct Avx512ZenOps : Avx512Ops {
  static V Iota(uint32_t base) {
    return _mm512_add_epi32(Set1(base), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }
  using Prepared = WideMidstate<Avx512ZenOps>;
  static void Leading(const Prepared& m, uint32_t base, V (&h0)[kStreams]) { LeadingWords<Avx512ZenOps, kStreams>(m, base, h0); }
  static uint32_t AtMost(V h0, uint32_t limit) { return _mm512_cmple_epu32_mask(h0, Set1(limit)); }
};

}  // namespace

bool SearchNoncesAvx512Zen(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  return SearchNonces<Avx512ZenOps, 16, kStreams>(m, prefix, hi, lo, count, found);
}

}  // namespace powgate
