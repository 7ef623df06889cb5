// The protocol's wire constants that the kernels and the packer need
// (docs/PROTOCOL.md, "Challenge MAC" and "Work message"), defined once in C++.
// TypeScript twin: src/wire.ts; test/backend.native-wire.test.ts checks that they agree
// through the addon's `wire` export.
#pragma once

#include <cstddef>
#include <cstdint>

namespace powgate {

// A challenge's id and MAC, as bytes and as the base64url texts that carry them.
constexpr size_t kIdBytes = 16;
constexpr size_t kMacBytes = 32;
constexpr size_t kIdChars = 22;
constexpr size_t kMacChars = 43;

// A nonce: a big-endian u64, carried as 16 lowercase hex digits.
constexpr size_t kNonceBytes = 8;
constexpr size_t kNonceChars = 16;

// A threshold, like the digest's value it bounds: a big-endian u64.
constexpr size_t kThresholdBytes = 8;

// The MAC input's terms, one difficulty table entry: u32 steps, u64 threshold,
// u32 calls, u32 price; the threshold starts at byte 4.
constexpr size_t kTermsBytes = 20;
constexpr size_t kTermsThresholdAt = 4;

constexpr uint32_t kMaxSubPuzzles = 64;

// The work message: "PGW1", the challenge's MAC, the sub-puzzle index (u32),
// then the nonce. Everything before the nonce is the prefix.
constexpr char kWorkLabel[] = "PGW1";
constexpr size_t kWorkLabelBytes = sizeof kWorkLabel - 1;
constexpr size_t kWorkPrefixBytes = kWorkLabelBytes + kMacBytes + 4;
constexpr size_t kWorkMessageBytes = kWorkPrefixBytes + kNonceBytes;
constexpr uint32_t kWorkMessageBits = 8 * kWorkMessageBytes;

// A work message is one SHA-256 block: the message, then 0x80, zeros and the
// message's length in bits. Bytes 0..47 of this template are zero.
struct alignas(64) WorkBlock {
  uint8_t bytes[64];
};

constexpr WorkBlock MakeWorkBlockPadding() {
  WorkBlock padding{};
  padding.bytes[kWorkMessageBytes] = 0x80;
  padding.bytes[62] = uint8_t(kWorkMessageBits >> 8);
  padding.bytes[63] = uint8_t(kWorkMessageBits);
  return padding;
}

inline constexpr WorkBlock kWorkBlockPadding = MakeWorkBlockPadding();

// The same padding as message words: W12 and W15 (W13 and W14 are zero).
constexpr uint32_t kWorkPadWord = 0x80000000u;
static_assert(kWorkMessageBytes == 48 && kWorkMessageBits < 0x10000,
              "the work message fills words 0..11 and its length fits in bytes 62..63");

}  // namespace powgate
