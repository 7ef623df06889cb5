// Strict decoding of the protocol's text fields (docs/PROTOCOL.md): unpadded
// base64url and lowercase hex, each accepted only in its one canonical spelling, so
// that no two texts decode to the same bytes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace powgate {

// Bytes that `chars` base64url characters decode to; chars % 4 == 1 spells nothing.
constexpr size_t Base64urlBytes(size_t chars) { return chars / 4 * 3 + (chars % 4 == 0 ? 0 : chars % 4 - 1); }

// Decodes `chars` characters of unpadded base64url into Base64urlBytes(chars) bytes at
// `out`. False (out then holds garbage) unless every character is in the alphabet,
// chars % 4 != 1 and the unused low bits of the last character are zero.
bool DecodeBase64url(const uint8_t* text, size_t chars, uint8_t* out);

// Decodes 2 * bytes lowercase hex characters into `bytes` bytes at `out`. False (out
// then holds garbage) unless every character is one of 0-9 a-f.
bool DecodeLowerHex(const uint8_t* text, size_t bytes, uint8_t* out);

}  // namespace powgate
