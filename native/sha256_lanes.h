// SHA-256 rounds on any lane width, written once: an ISA supplies `Ops`
// (vector type and SHA-256's functions, native/simd_*.h).
#pragma once

#include "sha256.h"

namespace powgate {

// One block per lane: w[] holds the lanes' message words (word-major) and is
// consumed; s[] is the state, updated with the feed-forward.
template <typename Ops>
inline void CompressLanes(typename Ops::V s[8], typename Ops::V w[16]) {
  using V = typename Ops::V;
  V a = s[0], b = s[1], c = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7];
#pragma GCC unroll 64
  for (int i = 0; i < 64; i++) {
    if (i >= 16) {
      const V w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
      w[i & 15] = Ops::Add(Ops::Add(w[i & 15], Ops::SmallSigma0(w15)), Ops::Add(w[(i - 7) & 15], Ops::SmallSigma1(w2)));
    }
    const V t1 = Ops::Add(Ops::Add(h, Ops::BigSigma1(e)), Ops::Add(Ops::Ch(e, f, g), Ops::Add(w[i & 15], Ops::Set1(kSha256K[i]))));
    const V t2 = Ops::Add(Ops::BigSigma0(a), Ops::Maj(a, b, c));
    h = g;
    g = f;
    f = e;
    e = Ops::Add(d, t1);
    d = c;
    c = b;
    b = a;
    a = Ops::Add(t1, t2);
  }
  const V out[8] = {a, b, c, d, e, f, g, h};
  for (int i = 0; i < 8; i++) s[i] = Ops::Add(s[i], out[i]);
}

}  // namespace powgate
