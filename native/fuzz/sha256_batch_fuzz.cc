// libFuzzer target: every kernel this CPU has must agree with the scalar one on
// any batch (lengths and contents chosen by the fuzzer), through both entry
// points, without touching memory outside the caller's buffers (ASan, UBSan).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../cpu_features.h"
#include "../sha256_batch.h"

using powgate::Isa;

namespace {

const Isa kIsas[] = {Isa::kShaNi, Isa::kAvx2, Isa::kAvx512};

void CheckAgainstScalar(const std::vector<uint8_t>& expected, const std::vector<uint8_t>& got) {
  if (expected != got) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t size) {
  if (size < 2) return 0;
  // First byte: how many messages (0..63); then one length byte each (0..255); the rest is data.
  const size_t count = input[0] % 64;
  if (size < 1 + count) return 0;
  std::vector<uint32_t> offsets(count + 1, 0);
  for (size_t i = 0; i < count; i++) offsets[i + 1] = offsets[i] + input[1 + i];
  const uint8_t* payload = input + 1 + count;
  const size_t payload_size = size - 1 - count;
  // Exactly-sized heap copy, so that any over-read is an ASan report.
  const size_t total = offsets[count];
  std::vector<uint8_t> data(total);
  for (size_t i = 0; i < total; i++) data[i] = payload_size ? payload[i % payload_size] : uint8_t(i);

  std::vector<uint8_t> expected(32 * count), got(32 * count);
  powgate::HashOffsets(Isa::kScalar, data.data(), offsets.data(), count, expected.data());
  for (Isa isa : kIsas) {
    if (!powgate::IsaSupported(isa)) continue;
    powgate::HashOffsets(isa, data.data(), offsets.data(), count, got.data());
    CheckAgainstScalar(expected, got);
  }

  // Uniform: the same data cut into equal pieces of the first message's length.
  const size_t length = count ? (input[1] | 1) : 1;
  const size_t uniform_count = total / length;
  std::vector<uint8_t> uniform(data.begin(), data.begin() + uniform_count * length);
  std::vector<uint8_t> uniform_expected(32 * uniform_count), uniform_got(32 * uniform_count);
  powgate::HashUniform(Isa::kScalar, uniform.data(), length, uniform_count, uniform_expected.data());
  for (Isa isa : kIsas) {
    if (!powgate::IsaSupported(isa)) continue;
    powgate::HashUniform(isa, uniform.data(), length, uniform_count, uniform_got.data());
    CheckAgainstScalar(uniform_expected, uniform_got);
  }
  return 0;
}
