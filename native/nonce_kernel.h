// The nonce-search rounds, written once for any lane width. An ISA supplies
// `Ops` (vector type and SHA-256's boolean functions); the loop is unrolled,
// so VariesWithNonce(i) is decided at compile time and constant terms cost nothing.
#pragma once

#include "nonce_search.h"
#include "sha256.h"

namespace powgate {

// Returns the digest's first word, H0, for each lane's W11.
template <typename Ops>
inline typename Ops::V LeadingWord(const NonceMidstate& m, typename Ops::V w11) {
  using V = typename Ops::V;
  V w[64];
  w[11] = w11;
  V a = Ops::Add(Ops::Set1(m.a12), w11), e = Ops::Add(Ops::Set1(m.e12), w11);
  V b = Ops::Set1(m.b12), c = Ops::Set1(m.c12), d = Ops::Set1(m.d12);
  V f = Ops::Set1(m.f12), g = Ops::Set1(m.g12), h = Ops::Set1(m.h12);
#pragma GCC unroll 64
  for (int i = 12; i < 64; i++) {
    V kw;
    if (VariesWithNonce(i)) {
      V s = Ops::Set1(m.w[i]);
      if (VariesWithNonce(i - 2)) s = Ops::Add(s, Ops::SmallSigma1(w[i - 2]));
      if (VariesWithNonce(i - 7)) s = Ops::Add(s, w[i - 7]);
      if (VariesWithNonce(i - 15)) s = Ops::Add(s, Ops::SmallSigma0(w[i - 15]));
      if (VariesWithNonce(i - 16)) s = Ops::Add(s, w[i - 16]);
      w[i] = s;
      kw = Ops::Add(s, Ops::Set1(kSha256K[i]));
    } else {
      kw = Ops::Set1(m.kw[i]);
    }
    V t1 = Ops::Add(Ops::Add(h, Ops::BigSigma1(e)), Ops::Add(Ops::Ch(e, f, g), kw));
    V t2 = Ops::Add(Ops::BigSigma0(a), Ops::Maj(a, b, c));
    h = g;
    g = f;
    f = e;
    e = Ops::Add(d, t1);
    d = c;
    c = b;
    b = a;
    a = Ops::Add(t1, t2);
  }
  return Ops::Add(a, Ops::Set1(kSha256Iv[0]));
}

// Runs Ops::Leading (H0 of nonces base .. base + Lanes - 1) over lo .. lo + count - 1, and re-checks
// each lane whose H0 could be below the threshold with the plain code, lowest first.
template <typename Ops, int Lanes>
bool SearchNonces(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  const uint64_t threshold = (uint64_t(m.threshold_hi) << 32) | m.threshold_lo;
  const uint64_t end = uint64_t(lo) + count;
  for (uint64_t base = lo; base < end; base += Lanes) {
    const uint32_t lanes = end - base < uint64_t(Lanes) ? uint32_t(end - base) : uint32_t(Lanes);
    uint32_t candidates = Ops::AtMost(Ops::Leading(m, uint32_t(base)), m.threshold_hi);
    if (lanes < uint32_t(Lanes)) candidates &= (1u << lanes) - 1;
    while (candidates) {
      const uint32_t nonce = uint32_t(base) + uint32_t(__builtin_ctz(candidates));
      if (NonceMeetsThreshold(prefix, hi, nonce, threshold)) {
        *found = nonce;
        return true;
      }
      candidates &= candidates - 1;
    }
  }
  return false;
}

}  // namespace powgate
