#include "check.h"

#include <cstring>

namespace powgate {

MacTail::MacTail(size_t length) {
  const size_t rest = length % 64;
  blocks = rest + 9 <= 64 ? 1 : 2;
  std::memset(bytes, 0, sizeof bytes);
  bytes[rest] = 0x80;
  const uint64_t bits = (uint64_t(length) + 64) * 8;
  StoreBe32(bytes + 64 * blocks - 8, uint32_t(bits >> 32));
  StoreBe32(bytes + 64 * blocks - 4, uint32_t(bits));
}

namespace {

using CompressFn = void (*)(uint32_t state[8], const uint8_t* blocks, size_t count);

void CheckProofsScalar(const ProofBatch& b) {
  WorkBlock block = kWorkBlockPadding;
  for (size_t i = 0; i < b.count; i++) {
    std::memcpy(block.bytes, b.prefixes + kWorkPrefixBytes * i, kWorkPrefixBytes);
    std::memcpy(block.bytes + kWorkPrefixBytes, b.nonces + kNonceBytes * i, kNonceBytes);
    uint32_t state[8];
    std::memcpy(state, kSha256Iv, sizeof state);
    CompressScalar(state, block.bytes, 1);
    const uint64_t digest = (uint64_t(state[0]) << 32) | state[1];
    b.verdicts[i] = digest < LoadBe64(b.thresholds + kThresholdBytes * i) ? 1 : 0;
  }
}

// One message at a time: the scalar kernel, and SHA-NI, whose single stream is already fast.
void CheckMacsSingle(CompressFn compress, const MacBatch& b) {
  const size_t whole = b.length / 64, rest = b.length % 64;
  MacTail tail(b.length);  // only its first `rest` bytes change between messages
  alignas(64) uint8_t outer[64] = {};
  StoreBe32(outer + 32, kOuterPadWord);
  StoreBe32(outer + 60, kOuterLengthBits);
  for (size_t i = 0; i < b.count; i++) {
    const uint32_t* key = b.pads + 16 * size_t(b.key_index[i]);
    const uint8_t* message = b.data + i * b.length;
    uint32_t inner[8], state[8];
    std::memcpy(inner, key, sizeof inner);
    compress(inner, message, whole);
    if (rest > 0) std::memcpy(tail.bytes, message + 64 * whole, rest);
    compress(inner, tail.bytes, tail.blocks);
    for (int w = 0; w < 8; w++) StoreBe32(outer + 4 * w, inner[w]);
    std::memcpy(state, key + 8, sizeof state);
    compress(state, outer, 1);
    // Constant time: every word is compared, whatever differs.
    uint32_t diff = 0;
    for (int w = 0; w < 8; w++) diff |= state[w] ^ LoadBe32(b.macs + 32 * i + 4 * w);
    b.verdicts[i] = uint8_t(1 ^ ((diff | (0u - diff)) >> 31));
  }
}

// A few items would leave most SIMD lanes idle: one stream is faster then.
constexpr size_t kFewItems = 4;

Isa ForCount(Isa isa, size_t count) {
  if (count >= kFewItems || (isa != Isa::kAvx512 && isa != Isa::kAvx2)) return isa;
  return IsaSupported(Isa::kShaNi) ? Isa::kShaNi : Isa::kScalar;
}

}  // namespace

// A kernel is named only where its library is linked (cpu_features.h); an isa that
// IsaSupported did not allow checks on the scalar kernel.
void CheckProofs(Isa isa, const ProofBatch& batch) {
  isa = ForCount(isa, batch.count);
  if constexpr (kHaveAvx512) {
    if (isa == Isa::kAvx512) return CheckProofsAvx512(batch);
  }
  if constexpr (kHaveAvx2) {
    if (isa == Isa::kAvx2) return CheckProofsAvx2(batch);
  }
  if constexpr (kHaveShaNi) {
    if (isa == Isa::kShaNi) return CheckProofsShaNi(batch);
  }
  CheckProofsScalar(batch);
}

void CheckMacs(Isa isa, const MacBatch& batch) {
  isa = ForCount(isa, batch.count);
  if constexpr (kHaveAvx512) {
    if (isa == Isa::kAvx512) return CheckMacsAvx512(batch);
  }
  if constexpr (kHaveAvx2) {
    if (isa == Isa::kAvx2) return CheckMacsAvx2(batch);
  }
  if constexpr (kHaveShaNi) {
    if (isa == Isa::kShaNi) return CheckMacsSingle(CompressShaNi, batch);
  }
  CheckMacsSingle(CompressScalar, batch);
}

}  // namespace powgate
