// SHA-256's compression on any lane width, written once: an ISA supplies `Ops`
// (vector type and SHA-256's functions, native/simd_*.h, or ScalarOps).
#pragma once

#include "sha256.h"
#include "sha256_round.h"

namespace powgate {

// One block per lane: w[] holds the lanes' message words (word-major) and is
// consumed; s[] is the state, updated with the feed-forward.
template <typename Ops>
inline void CompressLanes(typename Ops::V s[8], typename Ops::V w[16]) {
  using V = typename Ops::V;
  V a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 64
  for (int i = 0; i < 64; i++) {
    const V wi = i < 16 ? w[i] : ScheduleWord<Ops>(w, i);
    Round<Ops>(a, b, c, d, e, f, g, h, Ops::Add(wi, Ops::Set1(kSha256K[i])));
  }
  const V out[8] = {a, b, c, d, e, f, g, h};
  for (int i = 0; i < 8; i++) s[i] = Ops::Add(s[i], out[i]);
}

}  // namespace powgate
