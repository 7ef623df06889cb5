// Table-driven: one lookup per character, and any byte outside the alphabet (every
// byte >= 0x80 included) sets a bit that fails the whole text.
#include "text_decode.h"

#include <array>

namespace powgate {

namespace {

constexpr uint8_t kBad = 0x80;

constexpr std::array<uint8_t, 256> Base64urlTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kBad;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (uint8_t i = 0; i < 64; i++) table[uint8_t(alphabet[i])] = i;
  return table;
}

constexpr std::array<uint8_t, 256> HexTable() {
  std::array<uint8_t, 256> table{};
  for (auto& v : table) v = kBad;
  for (uint8_t i = 0; i < 10; i++) table['0' + i] = i;
  for (uint8_t i = 0; i < 6; i++) table['a' + i] = uint8_t(10 + i);
  return table;
}

constexpr std::array<uint8_t, 256> kBase64url = Base64urlTable();
constexpr std::array<uint8_t, 256> kHex = HexTable();

}  // namespace

bool DecodeBase64url(const uint8_t* text, size_t chars, uint8_t* out) {
  if (chars % 4 == 1) return false;
  uint8_t bad = 0;
  size_t i = 0;
  for (; i + 4 <= chars; i += 4) {
    const uint8_t a = kBase64url[text[i]], b = kBase64url[text[i + 1]], c = kBase64url[text[i + 2]], d = kBase64url[text[i + 3]];
    bad |= a | b | c | d;
    const uint32_t group = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c) << 6) | d;
    *out++ = uint8_t(group >> 16);
    *out++ = uint8_t(group >> 8);
    *out++ = uint8_t(group);
  }
  const size_t rest = chars - i;
  if (rest == 0) return (bad & kBad) == 0;
  // 2 characters carry 1 byte and 4 spare bits; 3 carry 2 bytes and 2 spare bits.
  const uint8_t a = kBase64url[text[i]], b = kBase64url[text[i + 1]], c = rest == 3 ? kBase64url[text[i + 2]] : 0;
  bad |= a | b | c;
  const uint32_t group = (uint32_t(a) << 18) | (uint32_t(b) << 12) | (uint32_t(c & 0x3f) << 6);
  *out++ = uint8_t(group >> 16);
  if (rest == 3) *out++ = uint8_t(group >> 8);
  const uint32_t spare = rest == 2 ? (group & 0xffff) : (group & 0xff);
  return (bad & kBad) == 0 && spare == 0;
}

bool DecodeLowerHex(const uint8_t* text, size_t bytes, uint8_t* out) {
  uint8_t bad = 0;
  for (size_t i = 0; i < bytes; i++) {
    const uint8_t hi = kHex[text[2 * i]], lo = kHex[text[2 * i + 1]];
    bad |= hi | lo;
    out[i] = uint8_t((hi << 4) | (lo & 0x0f));
  }
  return (bad & kBad) == 0;
}

}  // namespace powgate
