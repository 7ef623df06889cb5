// libFuzzer target: batch proof and HMAC-tag checks. For a batch derived from the
// input (counts, MAC length, key pads, thresholds at and around each digest, tags right
// or with one bit flipped), every kernel this CPU has, through CheckProofs / CheckMacs
// and each SIMD kernel called directly (small counts too, which CheckProofs routes to
// one stream), must give the scalar verdicts, and those must match this file's own
// computation. Buffers are exactly sized heap copies, so any stray access is an ASan report.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../check.h"
#include "../cpu_features.h"
#include "../sha256.h"

using namespace powgate;

namespace {

// The input as an endless stream: cycled, each pass mixed differently, so that any
// input fills whole batches.
class Stream {
 public:
  Stream(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t Byte() {
    const size_t i = at_++;
    if (size_ == 0) return uint8_t(i * 0x9d + 7);
    return uint8_t(data_[i % size_] ^ uint8_t((i / size_) * 0x9d));
  }

  uint32_t Word() { return (uint32_t(Byte()) << 24) | (uint32_t(Byte()) << 16) | (uint32_t(Byte()) << 8) | Byte(); }
  uint64_t U64() { return (uint64_t(Word()) << 32) | Word(); }
  void Fill(uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = Byte();
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

void StoreBe64(uint8_t* p, uint64_t v) {
  StoreBe32(p, uint32_t(v >> 32));
  StoreBe32(p + 4, uint32_t(v));
}

// The first 8 bytes of SHA-256(prefix || nonce), big-endian: one block, padded here.
uint64_t ProofValue(const uint8_t* prefix, const uint8_t* nonce) {
  uint8_t block[64] = {};
  std::memcpy(block, prefix, 40);
  std::memcpy(block + 40, nonce, 8);
  block[48] = 0x80;
  block[62] = 0x01;  // 48 bytes = 384 bits
  block[63] = 0x80;
  uint32_t state[8];
  std::memcpy(state, kSha256Iv, sizeof state);
  CompressScalar(state, block, 1);
  return (uint64_t(state[0]) << 32) | state[1];
}

// HMAC-SHA256 from a key's pad states (inner: words 0..7, outer: 8..15), padded here.
void Hmac(const uint32_t* pads, const uint8_t* message, size_t length, uint8_t out[32]) {
  uint32_t inner[8];
  std::memcpy(inner, pads, sizeof inner);
  const size_t whole = length / 64;
  CompressScalar(inner, message, whole);
  uint8_t tail[128] = {};
  const size_t rest = length - 64 * whole;
  if (rest > 0) std::memcpy(tail, message + 64 * whole, rest);
  tail[rest] = 0x80;
  const size_t blocks = rest < 56 ? 1 : 2;
  StoreBe64(tail + 64 * blocks - 8, (uint64_t(length) + 64) * 8);
  CompressScalar(inner, tail, blocks);
  uint8_t outer[64] = {};
  for (int w = 0; w < 8; w++) StoreBe32(outer + 4 * w, inner[w]);
  outer[32] = 0x80;
  StoreBe64(outer + 56, (64 + 32) * 8);
  uint32_t state[8];
  std::memcpy(state, pads + 8, sizeof state);
  CompressScalar(state, outer, 1);
  for (int w = 0; w < 8; w++) StoreBe32(out + 4 * w, state[w]);
}

void Require(const std::vector<uint8_t>& expected, const std::vector<uint8_t>& got) {
  if (expected != got) std::abort();
}

using ProofKernel = void (*)(const ProofBatch&);
using MacKernel = void (*)(const MacBatch&);

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t size) {
  if (size < 4) return 0;
  Stream in(input, size);
  const size_t proofs = in.Byte() % 80;
  const size_t macs = in.Byte() % 80;
  const size_t length = ((size_t(in.Byte()) << 8) | in.Byte()) % 400;
  const size_t keys = 1 + in.Byte() % 6;

  // ---- proofs: each threshold at, just above or below its digest, or anywhere
  std::vector<uint8_t> prefixes(40 * proofs), nonces(8 * proofs), thresholds(8 * proofs), expected(proofs);
  in.Fill(prefixes.data(), prefixes.size());
  in.Fill(nonces.data(), nonces.size());
  for (size_t i = 0; i < proofs; i++) {
    const uint64_t d = ProofValue(&prefixes[40 * i], &nonces[8 * i]);
    uint64_t t;
    switch (in.Byte() % 8) {
      case 0: t = d; break;
      case 1: t = d == UINT64_MAX ? d : d + 1; break;
      case 2: t = d == 0 ? 0 : d - 1; break;
      case 3: t = (d & 0xffffffff00000000ULL) | in.Word(); break;  // same high word
      case 4: t = d ^ (uint64_t(1) << (in.Byte() % 64)); break;    // one bit away
      case 5: t = in.Byte() & 1 ? 0 : UINT64_MAX; break;
      default: t = in.U64() >> (in.Byte() % 64); break;
    }
    StoreBe64(&thresholds[8 * i], t);
    expected[i] = d < t ? 1 : 0;
  }
  auto run_proofs = [&](ProofKernel kernel, Isa isa, bool direct) {
    std::vector<uint8_t> verdicts(proofs, 0xee);
    const ProofBatch batch{prefixes.data(), nonces.data(), thresholds.data(), proofs, verdicts.data()};
    if (direct)
      kernel(batch);
    else
      CheckProofs(isa, batch);
    Require(expected, verdicts);
  };
  run_proofs(nullptr, Isa::kScalar, false);
  const struct {
    Isa isa;
    ProofKernel proof;
    MacKernel mac;
  } kernels[] = {
      {Isa::kShaNi, CheckProofsShaNi, nullptr},
      {Isa::kAvx2, CheckProofsAvx2, CheckMacsAvx2},
      {Isa::kAvx512, CheckProofsAvx512, CheckMacsAvx512},
  };
  for (const auto& k : kernels) {
    if (!IsaSupported(k.isa)) continue;
    run_proofs(nullptr, k.isa, false);
    run_proofs(k.proof, k.isa, true);
  }

  // ---- MACs: equal-length messages under several keys, tags right or one bit off
  std::vector<uint32_t> pads(16 * keys);
  for (auto& word : pads) word = in.Word();
  std::vector<uint8_t> key_index(macs), data(macs * length), tags(32 * macs), mac_expected(macs);
  in.Fill(data.data(), data.size());
  for (size_t i = 0; i < macs; i++) {
    key_index[i] = uint8_t(in.Byte() % keys);
    Hmac(&pads[16 * key_index[i]], data.data() + length * i, length, &tags[32 * i]);  // data() + 0: length may be 0
    const uint8_t how = in.Byte();
    mac_expected[i] = 1;
    if (how % 3 == 0) {
      tags[32 * i + (in.Byte() % 32)] ^= uint8_t(1 << (how % 8));
      mac_expected[i] = 0;
    } else if (how % 3 == 1 && keys > 1) {
      // Checked under another key than it was made with.
      key_index[i] = uint8_t((key_index[i] + 1) % keys);
      mac_expected[i] = std::memcmp(&pads[16 * key_index[i]], &pads[16 * ((key_index[i] + keys - 1) % keys)], 64) == 0;
    }
  }
  auto run_macs = [&](MacKernel kernel, Isa isa, bool direct) {
    std::vector<uint8_t> verdicts(macs, 0xee);
    const MacBatch batch{pads.data(), key_index.data(), data.data(), length, macs, tags.data(), verdicts.data()};
    if (direct)
      kernel(batch);
    else
      CheckMacs(isa, batch);
    Require(mac_expected, verdicts);
  };
  run_macs(nullptr, Isa::kScalar, false);
  for (const auto& k : kernels) {
    if (!IsaSupported(k.isa)) continue;
    run_macs(nullptr, k.isa, false);
    if (k.mac) run_macs(k.mac, k.isa, true);
  }
  return 0;
}
