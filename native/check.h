// Batch verification: many proofs, or many HMAC-SHA256 tags, checked in one call
// on the kernel of a chosen instruction set. Verdicts are bytes: 1 holds, 0 not.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu_features.h"
#include "sha256.h"
#include "wire.h"

namespace powgate {

// Proof i holds when the first 8 bytes of SHA-256(prefix_i || nonce_i), big-endian,
// are below threshold_i: 40-byte prefixes, 8-byte big-endian nonces and thresholds.
struct ProofBatch {
  const uint8_t* prefixes;
  const uint8_t* nonces;
  const uint8_t* thresholds;
  size_t count;
  uint8_t* verdicts;
};

// Tag i holds when HMAC-SHA256(key, message i) equals macs[32i, 32i + 32). Keys come
// as pad states, 16 words a key (after the inner pad block, then after the outer);
// message i is data[i * length, (i + 1) * length) under key key_index[i].
struct MacBatch {
  const uint32_t* pads;
  const uint8_t* key_index;
  const uint8_t* data;
  size_t length;
  size_t count;
  const uint8_t* macs;
  uint8_t* verdicts;
};

void CheckProofs(Isa isa, const ProofBatch& batch);
void CheckMacs(Isa isa, const MacBatch& batch);

void CheckProofsShaNi(const ProofBatch& batch);
void CheckProofsAvx2(const ProofBatch& batch);
void CheckProofsAvx512(const ProofBatch& batch);
void CheckMacsAvx2(const MacBatch& batch);
void CheckMacsAvx512(const MacBatch& batch);

// The padding after a MAC message: HMAC's inner hash has absorbed one 64-byte pad
// block before the message, so the length field counts 64 + length bytes.
struct MacTail {
  alignas(64) uint8_t bytes[128];
  size_t blocks;  // 1 or 2: the last `length % 64` message bytes go first
  explicit MacTail(size_t length);
};

// The outer hash's one block: the inner digest (words 0..7), then its padding.
constexpr uint32_t kOuterPadWord = 0x80000000u;
constexpr uint32_t kOuterLengthBits = (64 + 32) * 8;

inline uint64_t LoadBe64(const uint8_t* p) { return (uint64_t(LoadBe32(p)) << 32) | LoadBe32(p + 4); }

}  // namespace powgate
