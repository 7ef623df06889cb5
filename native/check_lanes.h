// The batch checks on any lane width, written once. Besides SHA-256's functions
// (native/simd_*.h), an ISA's `Ops` supplies the loads and compares:
//   ProofWords(batch, item[], w)   message words of the lanes' proofs
//   TailWords(start[], rest, pad, w)   each lane's last `rest` bytes over the padding `pad`
//   TagWords(macs, item[], t)      the expected tags as words
//   Load(words)                    kLanes words from an aligned array
//   Below(h0, h1, hi, lo)          bit per lane: (h0:h1) < (hi:lo) as u64
//   Zero(x)                        bit per lane: x == 0
// A group's spare lanes repeat its first item; their verdicts are dropped.
#pragma once

#include "check.h"
#include "sha256_lanes.h"

namespace powgate {

template <typename Ops>
struct LaneGroup {
  static constexpr size_t kLanes = size_t(Ops::kLanes);
  size_t first, lanes, item[kLanes];

  LaneGroup(size_t first_item, size_t count) : first(first_item), lanes(count - first_item < kLanes ? count - first_item : kLanes) {
    for (size_t lane = 0; lane < kLanes; lane++) item[lane] = first + (lane < lanes ? lane : 0);
  }

  void Store(uint32_t bits, uint8_t* verdicts) const {
    for (size_t lane = 0; lane < lanes; lane++) verdicts[first + lane] = uint8_t((bits >> lane) & 1);
  }
};

template <typename Ops>
void CheckProofsLanes(const ProofBatch& b) {
  using V = typename Ops::V;
  using Group = LaneGroup<Ops>;
  for (size_t first = 0; first < b.count; first += Group::kLanes) {
    const Group g(first, b.count);
    V w[16], s[8];
    Ops::ProofWords(b, g.item, w);
    for (int i = 0; i < 8; i++) s[i] = Ops::Set1(kSha256Iv[i]);
    CompressLanes<Ops>(s, w);
    alignas(64) uint32_t hi[Group::kLanes], lo[Group::kLanes];
    for (size_t lane = 0; lane < Group::kLanes; lane++) {
      const uint64_t t = LoadBe64(b.thresholds + 8 * g.item[lane]);
      hi[lane] = uint32_t(t >> 32);
      lo[lane] = uint32_t(t);
    }
    g.Store(Ops::Below(s[0], s[1], Ops::Load(hi), Ops::Load(lo)), b.verdicts);
  }
}

template <typename Ops>
void CheckMacsLanes(const MacBatch& b) {
  using V = typename Ops::V;
  using Group = LaneGroup<Ops>;
  const MacTail tail(b.length);
  const size_t whole = b.length / 64, rest = b.length % 64;
  for (size_t first = 0; first < b.count; first += Group::kLanes) {
    const Group g(first, b.count);
    alignas(64) uint32_t pads[16][Group::kLanes];
    const uint8_t* at[Group::kLanes];
    for (size_t lane = 0; lane < Group::kLanes; lane++) {
      const uint32_t* key = b.pads + 16 * size_t(b.key_index[g.item[lane]]);
      for (int word = 0; word < 16; word++) pads[word][lane] = key[word];
      at[lane] = b.data + g.item[lane] * b.length;
    }
    V s[8], w[16];
    for (int i = 0; i < 8; i++) s[i] = Ops::Load(pads[i]);
    for (size_t block = 0; block < whole; block++) {
      Ops::BlockWords(at, w);
      CompressLanes<Ops>(s, w);
      for (size_t lane = 0; lane < Group::kLanes; lane++) at[lane] += 64;
    }
    Ops::TailWords(at, rest, tail.bytes, w);
    CompressLanes<Ops>(s, w);
    if (tail.blocks == 2) {
      for (int j = 0; j < 16; j++) w[j] = Ops::Set1(LoadBe32(tail.bytes + 64 + 4 * j));
      CompressLanes<Ops>(s, w);
    }
    // The outer hash: its block is the inner digest, already as words.
    V o[8], t[8];
    for (int i = 0; i < 8; i++) {
      o[i] = Ops::Load(pads[8 + i]);
      w[i] = s[i];
    }
    w[8] = Ops::Set1(kOuterPadWord);
    for (int j = 9; j < 15; j++) w[j] = Ops::Set1(0);
    w[15] = Ops::Set1(kOuterLengthBits);
    CompressLanes<Ops>(o, w);
    // Constant time: every word of every lane is compared, whatever differs.
    Ops::TagWords(b.macs, g.item, t);
    V diff = Ops::Set1(0);
    for (int i = 0; i < 8; i++) diff = Ops::Or(diff, Ops::Xor(o[i], t[i]));
    g.Store(Ops::Zero(diff), b.verdicts);
  }
}

}  // namespace powgate
