// libFuzzer target: every nonce-search kernel this CPU has (each tuning) must return what a
// plain scan with the scalar check returns (the lowest qualifying nonce, or
// none) for any prefix, nonce range and threshold the fuzzer picks.
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../cpu_features.h"
#include "../nonce_search.h"

using namespace powgate;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t size) {
  // prefix (40) | hi (4) | lo (4) | count (2) | threshold (8)
  if (size < 58) return 0;
  uint8_t prefix[kWorkPrefixBytes];
  std::memcpy(prefix, input, kWorkPrefixBytes);
  uint32_t hi, lo;
  uint16_t count;
  uint64_t threshold;
  std::memcpy(&hi, input + 40, 4);
  std::memcpy(&lo, input + 44, 4);
  std::memcpy(&count, input + 48, 2);
  std::memcpy(&threshold, input + 50, 8);
  count %= 600;
  if (uint64_t(lo) + count > 0x100000000ULL) lo = uint32_t(0x100000000ULL - count);
  // Mostly easy thresholds, so that hits happen: shift by the fuzzer's choice.
  threshold >>= (input[57] % 16);

  int64_t expected = -1;
  for (uint32_t i = 0; i < count; i++) {
    if (NonceMeetsThreshold(prefix, hi, lo + i, threshold)) {
      expected = int64_t(lo) + i;
      break;
    }
  }
  NonceMidstate m;
  PrepareMidstate(prefix, hi, threshold, &m);
  const struct {
    Isa isa;
    NonceSearchFn fn;
  } kernels[] = {{Isa::kScalar, SearchNoncesScalar}, {Isa::kShaNi, SearchNoncesShaNi},   {Isa::kShaNi, SearchNoncesShaNiZen},
                 {Isa::kAvx2, SearchNoncesAvx2},     {Isa::kAvx512, SearchNoncesAvx512}, {Isa::kAvx512, SearchNoncesAvx512Zen}};
  for (const auto& k : kernels) {
    if (!IsaSupported(k.isa)) continue;
    uint32_t found = 0;
    const int64_t got = k.fn(m, prefix, hi, lo, count, &found) ? int64_t(found) : -1;
    if (got != expected) std::abort();
  }
  return 0;
}
