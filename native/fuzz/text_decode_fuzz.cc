// libFuzzer target: the strict text decoders of packChallenges. For any input taken
// as text, DecodeBase64url must succeed exactly when the text is the canonical
// base64url spelling of some bytes (re-encoding them gives the text back), and
// DecodeLowerHex exactly when every character is 0-9 a-f; both must then give this
// file's own bit-by-bit decoding. Outputs are exactly sized heap buffers, so any
// stray write is an ASan report.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../text_decode.h"

using namespace powgate;

namespace {

const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int Sextet(uint8_t c) {
  const char* at = c == 0 ? nullptr : std::strchr(kAlphabet, c);
  return at ? int(at - kAlphabet) : -1;
}

// Reference: six bits a character into an accumulator; false on a character outside the alphabet.
bool ReferenceBase64url(const uint8_t* text, size_t chars, std::vector<uint8_t>* out) {
  uint32_t bits = 0;
  int held = 0;
  for (size_t i = 0; i < chars; i++) {
    const int v = Sextet(text[i]);
    if (v < 0) return false;
    bits = (bits << 6) | uint32_t(v);
    held += 6;
    if (held >= 8) {
      held -= 8;
      out->push_back(uint8_t(bits >> held));
    }
  }
  return true;
}

std::string EncodeBase64url(const std::vector<uint8_t>& bytes) {
  std::string text;
  uint32_t bits = 0;
  int held = 0;
  for (uint8_t b : bytes) {
    bits = (bits << 8) | b;
    held += 8;
    while (held >= 6) {
      held -= 6;
      text += kAlphabet[(bits >> held) & 63];
    }
  }
  if (held > 0) text += kAlphabet[(bits << (6 - held)) & 63];
  return text;
}

int Nibble(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t size) {
  // ---- base64url: the whole input, and the lengths the protocol uses (22, 43) when it has them
  for (size_t chars : {size, size_t(22), size_t(43)}) {
    if (chars > size) continue;
    std::vector<uint8_t> text(input, input + chars);  // exactly sized: a read past it is reported
    std::vector<uint8_t> out(Base64urlBytes(chars));
    const bool ok = DecodeBase64url(text.data(), chars, out.data());
    std::vector<uint8_t> expected;
    const bool in_alphabet = ReferenceBase64url(text.data(), chars, &expected);
    const bool canonical = in_alphabet && chars % 4 != 1 && EncodeBase64url(expected) == std::string(text.begin(), text.end());
    if (ok != canonical) std::abort();
    if (ok && (expected.size() != out.size() || !std::equal(expected.begin(), expected.end(), out.begin()))) std::abort();
  }

  // ---- lowercase hex: the input's even-length head, and 16 characters (one nonce)
  for (size_t chars : {size & ~size_t(1), size_t(16)}) {
    if (chars > size) continue;
    std::vector<uint8_t> text(input, input + chars);
    std::vector<uint8_t> out(chars / 2);
    const bool ok = DecodeLowerHex(text.data(), chars / 2, out.data());
    bool valid = true;
    std::vector<uint8_t> expected(chars / 2);
    for (size_t i = 0; i < chars; i++) {
      const int v = Nibble(text[i]);
      if (v < 0)
        valid = false;
      else
        expected[i / 2] = uint8_t(expected[i / 2] | (i % 2 == 0 ? v << 4 : v));
    }
    if (ok != valid || (ok && expected != out)) std::abort();
  }
  return 0;
}
