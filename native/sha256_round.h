// SHA-256's round (FIPS 180-4, section 6.2.2), written once for any lane width: an
// ISA's `Ops` supplies the vector type and SHA-256's functions (native/simd_*.h);
// ScalarOps is the plain one, a single 32-bit lane.
#pragma once

#include <cstdint>

namespace powgate {

struct ScalarOps {
  using V = uint32_t;
  static constexpr int kLanes = 1;
  static V Rotr(V x, int n) { return (x >> n) | (x << (32 - n)); }
  static V Set1(uint32_t x) { return x; }
  static V Add(V a, V b) { return a + b; }
  static V BigSigma0(V a) { return Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22); }
  static V BigSigma1(V e) { return Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25); }
  static V SmallSigma0(V x) { return Rotr(x, 7) ^ Rotr(x, 18) ^ (x >> 3); }
  static V SmallSigma1(V x) { return Rotr(x, 17) ^ Rotr(x, 19) ^ (x >> 10); }
  static V Ch(V e, V f, V g) { return (e & f) ^ (~e & g); }
  static V Maj(V a, V b, V c) { return (a & b) ^ (a & c) ^ (b & c); }
};

// One round, with kw = K[i] + W[i]: the new a and e, and every other word moves
// down one place.
template <typename Ops, typename V = typename Ops::V>
inline void Round(V& a, V& b, V& c, V& d, V& e, V& f, V& g, V& h, V kw) {
  const V t1 = Ops::Add(Ops::Add(h, Ops::BigSigma1(e)), Ops::Add(Ops::Ch(e, f, g), kw));
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

// W[i] for i >= 16 from the sixteen before it, kept in a ring of sixteen.
template <typename Ops, typename V = typename Ops::V>
inline V ScheduleWord(V w[16], int i) {
  const V w15 = w[(i - 15) & 15], w2 = w[(i - 2) & 15];
  return w[i & 15] = Ops::Add(Ops::Add(w[i & 15], Ops::SmallSigma0(w15)), Ops::Add(w[(i - 7) & 15], Ops::SmallSigma1(w2)));
}

}  // namespace powgate
