// Size checks of the bindings' arguments, apart from N-API so that a libFuzzer target can
// drive them. Every product is computed with an overflow check: a length chosen so that
// count * length wraps to the data's size must be refused, not trusted.
#pragma once

#include <cstddef>
#include <cstdint>

namespace powgate {

// a * b, or false when it does not fit in size_t.
inline bool MulFits(size_t a, size_t b, size_t* product) { return !__builtin_mul_overflow(a, b, product); }

// hashUniform: out holds whole digests, and data holds exactly count messages of length bytes.
inline bool UniformSizesOk(int64_t length, size_t data_bytes, size_t out_bytes) {
  if (length < 0 || out_bytes % 32 != 0) return false;
  size_t total;
  return MulFits(out_bytes / 32, size_t(length), &total) && total == data_bytes;
}

// checkProofs: per verdict, prefix_size prefix bytes, 8 nonce bytes and 8 threshold bytes.
inline bool ProofSizesOk(size_t prefix_size, size_t count, size_t prefix_bytes, size_t nonce_bytes, size_t threshold_bytes) {
  size_t p, n, t;
  return MulFits(prefix_size, count, &p) && MulFits(8, count, &n) && MulFits(8, count, &t) && p == prefix_bytes && n == nonce_bytes &&
         t == threshold_bytes;
}

// checkMacs: per verdict, one key index, length data bytes and 32 MAC bytes; length fits in a u32.
inline bool MacSizesOk(int64_t length, size_t count, size_t indexes, size_t data_bytes, size_t mac_bytes) {
  size_t d, m;
  return length >= 0 && length <= 0xffffffffLL && indexes == count && MulFits(count, size_t(length), &d) && d == data_bytes &&
         MulFits(32, count, &m) && m == mac_bytes;
}

}  // namespace powgate
