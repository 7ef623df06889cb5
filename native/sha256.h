// SHA-256 compression kernels, one per instruction set. Each ISA's file is
// compiled in its own gyp target with its own flags; dispatch picks one at run time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace powgate {

extern const uint32_t kSha256K[64];
extern const uint32_t kSha256Iv[8];

// Single stream: compresses `count` consecutive 64-byte blocks into `state`.
void CompressScalar(uint32_t state[8], const uint8_t* blocks, size_t count);
void CompressShaNi(uint32_t state[8], const uint8_t* blocks, size_t count);

// Lanes: `state` is word-major (state[word * kLanes + lane]); blocks[lane]
// points at that lane's next 64-byte block.
constexpr size_t kAvx2Lanes = 8;
constexpr size_t kAvx512Lanes = 16;
void CompressAvx2x8(uint32_t* state, const uint8_t* const blocks[kAvx2Lanes]);
void CompressAvx512x16(uint32_t* state, const uint8_t* const blocks[kAvx512Lanes]);

// Equal-length messages, sixteen at a time with padding built in registers.
void HashUniformAvx512(const uint8_t* data, size_t length, size_t count, uint8_t* out);

inline uint32_t LoadBe32(const uint8_t* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

inline void StoreBe32(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}

}  // namespace powgate
