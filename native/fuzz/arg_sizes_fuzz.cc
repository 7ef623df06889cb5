// libFuzzer target: the bindings' size checks (arg_sizes.h). For sizes and lengths drawn
// from the input, biased towards values whose products wrap, a check may pass only when
// the exact product (in 128 bits) equals the buffer's size: no wrapped product gets through.
#include <cstdint>
#include <cstdlib>

#include "../arg_sizes.h"

using namespace powgate;

namespace {

using u128 = unsigned __int128;

// Eight input bytes as a size, one of a few shapes: small, near a power of two, or raw.
uint64_t Draw(const uint8_t* data, size_t size, size_t* at) {
  uint64_t raw = 0;
  for (int i = 0; i < 8; i++) raw = (raw << 8) | (*at < size ? data[(*at)++] : 0);
  switch (raw & 3) {
    case 0: return (raw >> 2) & 0xffff;
    case 1: return (uint64_t(1) << ((raw >> 2) & 63)) + ((raw >> 8) & 7) - 3;
    default: return raw >> 2;
  }
}

void Require(bool claim) {
  if (!claim) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t at = 0;
  const int64_t length = int64_t(Draw(data, size, &at));
  const size_t count = Draw(data, size, &at);
  const size_t a = Draw(data, size, &at), b = Draw(data, size, &at), c = Draw(data, size, &at);
  // Buffers sized as the wrapped product (the attack) or drawn from the input.
  const bool wrapped = size > 0 && (data[0] & 1) != 0;
  const size_t per = a / 32;
  const size_t uniform_data = wrapped ? per * size_t(length) : b;
  if (UniformSizesOk(length, uniform_data, a)) {
    Require(length >= 0 && a % 32 == 0 && u128(per) * u128(uint64_t(length)) == u128(uniform_data));
  }
  const size_t p = wrapped ? 40 * count : a, n = wrapped ? 8 * count : b, t = wrapped ? 8 * count : c;
  if (ProofSizesOk(40, count, p, n, t)) {
    Require(u128(40) * count == p && u128(8) * count == n && u128(8) * count == t);
  }
  const size_t mac_data = wrapped ? count * size_t(length) : b, macs = wrapped ? 32 * count : c;
  if (MacSizesOk(length, count, count, mac_data, macs)) {
    Require(length >= 0 && length <= 0xffffffffLL && u128(count) * u128(uint64_t(length)) == mac_data && u128(32) * count == macs);
  }
  return 0;
}
