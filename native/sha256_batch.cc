#include "sha256_batch.h"

#include <cstring>

#include "sha256.h"

namespace powgate {

namespace {

// The last one or two blocks of a message: its tail bytes, 0x80, zeros, bit length.
struct PaddedTail {
  alignas(64) uint8_t bytes[128];
  size_t blocks;

  void Fill(const uint8_t* message, size_t length) {
    const size_t rest = length % 64;
    blocks = rest + 9 <= 64 ? 1 : 2;
    const size_t size = 64 * blocks;
    // Fixed-size clears: a variable-size one becomes a slow `rep stos`.
    std::memset(bytes, 0, 64);
    if (blocks == 2) std::memset(bytes + 64, 0, 64);
    if (rest > 0) std::memcpy(bytes, message + (length - rest), rest);
    bytes[rest] = 0x80;
    const uint64_t bits = uint64_t(length) * 8;
    StoreBe32(bytes + size - 8, uint32_t(bits >> 32));
    StoreBe32(bytes + size - 4, uint32_t(bits));
  }
};

struct OffsetMessages {
  const uint8_t* data;
  const uint32_t* offsets;
  const uint8_t* Start(size_t i) const { return data + offsets[i]; }
  size_t Length(size_t i) const { return offsets[i + 1] - offsets[i]; }
};

struct UniformMessages {
  const uint8_t* data;
  size_t length;
  const uint8_t* Start(size_t i) const { return data + i * length; }
  size_t Length(size_t) const { return length; }
};

using SingleKernel = void (*)(uint32_t*, const uint8_t*, size_t);

template <typename Messages>
void HashSingle(SingleKernel compress, const Messages& messages, size_t count, uint8_t* out) {
  PaddedTail tail;
  for (size_t i = 0; i < count; i++, out += 32) {
    const uint8_t* message = messages.Start(i);
    const size_t length = messages.Length(i);
    uint32_t state[8];
    std::memcpy(state, kSha256Iv, sizeof state);
    compress(state, message, length / 64);
    tail.Fill(message, length);
    compress(state, tail.bytes, tail.blocks);
    for (int w = 0; w < 8; w++) StoreBe32(out + 4 * w, state[w]);
  }
}

// Runs a Lanes-wide kernel over the batch. Each lane walks its own message's
// blocks; a finished lane writes its digest and takes the next message, so
// mixed lengths and short tails keep the other lanes busy.
template <size_t Lanes, void (*Compress)(uint32_t*, const uint8_t* const*), typename Messages>
void HashLanes(const Messages& messages, size_t count, uint8_t* out) {
  alignas(64) static const uint8_t kIdleBlock[64] = {};
  alignas(64) uint32_t state[8 * Lanes];
  PaddedTail tails[Lanes];
  const uint8_t* blocks[Lanes];
  size_t message_of[Lanes], block_of[Lanes], whole_blocks_of[Lanes];
  bool busy[Lanes];
  size_t next = 0, running = 0;

  auto start = [&](size_t lane) {
    busy[lane] = next < count;
    if (!busy[lane]) {
      blocks[lane] = kIdleBlock;
      return;
    }
    const size_t i = next++;
    const size_t length = messages.Length(i);
    message_of[lane] = i;
    block_of[lane] = 0;
    whole_blocks_of[lane] = length / 64;
    tails[lane].Fill(messages.Start(i), length);
    for (int w = 0; w < 8; w++) state[w * Lanes + lane] = kSha256Iv[w];
    running++;
  };
  auto point = [&](size_t lane) {
    const size_t b = block_of[lane], whole = whole_blocks_of[lane];
    blocks[lane] = b < whole ? messages.Start(message_of[lane]) + 64 * b : tails[lane].bytes + 64 * (b - whole);
  };

  for (size_t lane = 0; lane < Lanes; lane++) {
    start(lane);
    if (busy[lane]) point(lane);
  }
  while (running > 0) {
    Compress(state, blocks);
    for (size_t lane = 0; lane < Lanes; lane++) {
      if (!busy[lane]) continue;
      if (++block_of[lane] == whole_blocks_of[lane] + tails[lane].blocks) {
        uint8_t* digest = out + 32 * message_of[lane];
        for (int w = 0; w < 8; w++) StoreBe32(digest + 4 * w, state[w * Lanes + lane]);
        running--;
        start(lane);
        if (!busy[lane]) continue;
      }
      point(lane);
    }
  }
}

// A kernel is named only where its library is linked (cpu_features.h); callers pass
// an isa that IsaSupported allowed, and anything else hashes on the scalar kernel.
template <typename Messages>
void Dispatch(Isa isa, const Messages& messages, size_t count, uint8_t* out) {
  if constexpr (kHaveAvx512) {
    if (isa == Isa::kAvx512) return HashLanes<kAvx512Lanes, CompressAvx512x16>(messages, count, out);
  }
  if constexpr (kHaveAvx2) {
    if (isa == Isa::kAvx2) return HashLanes<kAvx2Lanes, CompressAvx2x8>(messages, count, out);
  }
  if constexpr (kHaveShaNi) {
    if (isa == Isa::kShaNi) return HashSingle(CompressShaNi, messages, count, out);
  }
  HashSingle(CompressScalar, messages, count, out);
}

}  // namespace

void HashOffsets(Isa isa, const uint8_t* data, const uint32_t* offsets, size_t count, uint8_t* out) {
  Dispatch(isa, OffsetMessages{data, offsets}, count, out);
}

void HashUniform(Isa isa, const uint8_t* data, size_t length, size_t count, uint8_t* out) {
  if constexpr (kHaveAvx512) {
    if (isa == Isa::kAvx512) return HashUniformAvx512(data, length, count, out);
  }
  Dispatch(isa, UniformMessages{data, length}, count, out);
}

}  // namespace powgate
