// The nonce-search rounds, written once for any lane width. An ISA supplies
// `Ops` (vector type and SHA-256's boolean functions); the loop is unrolled,
// so VariesWithNonce(i) is decided at compile time and constant terms cost nothing.
#pragma once

#include "nonce_search.h"
#include "sha256.h"
#include "sha256_round.h"

namespace powgate {

// Returns the digest's first word, H0, for each lane's W11, one vector of lanes at a
// time: the kernel tuned on the Intel Xeon of docs/BENCHMARKS.md.
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
    Round<Ops>(a, b, c, d, e, f, g, h, kw);
  }
  return Ops::Add(a, Ops::Set1(kSha256Iv[0]));
}

// The midstate's words broadcast to every lane once per kernel call, so that the
// rounds read whole vectors instead of broadcasting a word at each use.
template <typename Ops>
struct WideMidstate {
  using V = typename Ops::V;
  V kw[64];  // K[i] + W[i] where W[i] is constant; K[i] where it varies
  V w[64];   // the constant part of a varying W[i]
  V a12, e12, b12, c12, d12, f12, g12, h12, iv0;

  explicit WideMidstate(const NonceMidstate& m) {
    for (int i = 0; i < 64; i++) {
      kw[i] = Ops::Set1(VariesWithNonce(i) ? kSha256K[i] : m.kw[i]);
      w[i] = Ops::Set1(m.w[i]);
    }
    a12 = Ops::Set1(m.a12), e12 = Ops::Set1(m.e12), b12 = Ops::Set1(m.b12), c12 = Ops::Set1(m.c12);
    d12 = Ops::Set1(m.d12), f12 = Ops::Set1(m.f12), g12 = Ops::Set1(m.g12), h12 = Ops::Set1(m.h12);
    iv0 = Ops::Set1(kSha256Iv[0]);
  }
};

// H0 for each lane's W11, for `Streams` independent vectors of lanes at once: the
// streams' rounds interleave, so one stream's dependency chain hides behind another's.
// Each round adds h + K + W before Ch and then S1, so e's chain is four operations
// deep; the compiler must not reassociate the sums (nonce_avx512_zen.cc says how).
template <typename Ops, int Streams>
inline void LeadingWords(const WideMidstate<Ops>& m, uint32_t base, typename Ops::V (&h0)[Streams]) {
  using V = typename Ops::V;
  V w[64][Streams];
  V a[Streams], b[Streams], c[Streams], d[Streams], e[Streams], f[Streams], g[Streams], h[Streams];
  for (int s = 0; s < Streams; s++) {
    w[11][s] = Ops::Iota(base + uint32_t(s * Ops::kLanes));
    a[s] = Ops::Add(m.a12, w[11][s]);
    e[s] = Ops::Add(m.e12, w[11][s]);
    b[s] = m.b12, c[s] = m.c12, d[s] = m.d12, f[s] = m.f12, g[s] = m.g12, h[s] = m.h12;
  }
#pragma GCC unroll 64
  for (int i = 12; i < 64; i++) {
#pragma GCC unroll 4
    for (int s = 0; s < Streams; s++) {
      // h + K[i] + W[i] first: it does not wait for this round's e.
      V hk = Ops::Add(h[s], m.kw[i]);
      if (VariesWithNonce(i)) {
        V x = m.w[i];
        if (VariesWithNonce(i - 2)) x = Ops::Add(x, Ops::SmallSigma1(w[i - 2][s]));
        if (VariesWithNonce(i - 7)) x = Ops::Add(x, w[i - 7][s]);
        if (VariesWithNonce(i - 15)) x = Ops::Add(x, Ops::SmallSigma0(w[i - 15][s]));
        if (VariesWithNonce(i - 16)) x = Ops::Add(x, w[i - 16][s]);
        w[i][s] = x;
        hk = Ops::Add(hk, x);
      }
      const V t1 = Ops::Add(Ops::Add(hk, Ops::Ch(e[s], f[s], g[s])), Ops::BigSigma1(e[s]));
      const V t2 = Ops::Add(Ops::BigSigma0(a[s]), Ops::Maj(a[s], b[s], c[s]));
      h[s] = g[s];
      g[s] = f[s];
      f[s] = e[s];
      e[s] = Ops::Add(d[s], t1);
      d[s] = c[s];
      c[s] = b[s];
      b[s] = a[s];
      a[s] = Ops::Add(t1, t2);
    }
  }
  for (int s = 0; s < Streams; s++) h0[s] = Ops::Add(a[s], m.iv0);
}

// Runs Ops::Leading (H0 of nonces base .. base + Lanes x Streams - 1) over lo .. lo + count - 1
// and re-checks each lane whose H0 could be below the threshold with the plain code, lowest
// first. Ops::Prepared is what the kernel derives from the midstate once per call.
template <typename Ops, int Lanes, int Streams = 1>
bool SearchNonces(const NonceMidstate& m, const uint8_t* prefix, uint32_t hi, uint32_t lo, uint32_t count, uint32_t* found) {
  using V = typename Ops::V;
  constexpr int kStep = Lanes * Streams;
  static_assert(kStep <= 64, "one candidate bit per nonce of a step");
  const typename Ops::Prepared prepared(m);
  const uint64_t threshold = (uint64_t(m.threshold_hi) << 32) | m.threshold_lo;
  const uint64_t end = uint64_t(lo) + count;
  for (uint64_t base = lo; base < end; base += kStep) {
    V h0[Streams];
    Ops::Leading(prepared, uint32_t(base), h0);
    uint64_t candidates = 0;
    for (int s = 0; s < Streams; s++) candidates |= uint64_t(Ops::AtMost(h0[s], m.threshold_hi)) << (s * Lanes);
    if (end - base < uint64_t(kStep)) candidates &= (uint64_t(1) << (end - base)) - 1;
    while (candidates) {
      const uint32_t nonce = uint32_t(base) + uint32_t(__builtin_ctzll(candidates));
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
