// packChallenges: lays out many challenges' MAC inputs, expected tags and proof
// prefixes (docs/PROTOCOL.md, "Challenge MAC" and "Work message") from fields that
// TypeScript has read and checked, so that verifySolutions copies no bytes in
// JavaScript. The id, signature and nonces come as their texts (ASCII, as TypeScript
// wrote them) and are decoded here, strictly: an item whose text is not the canonical
// spelling is marked refused and left unpacked, for TypeScript's per-pair reader.
// TypeScript owns the protocol's rules; this only keeps memory safe.
#include <cmath>
#include <cstring>

#include "bindings.h"
#include "sha256.h"
#include "text_decode.h"
#include "wire.h"

namespace powgate {

namespace {

constexpr size_t kItemWords = 7;  // key, table entry, scope, sub-puzzles, MAC input at, tag at, first proof
constexpr double kMaxTime = 9007199254740991.0;

void StoreBe64(uint8_t* p, uint64_t v) {
  StoreBe32(p, uint32_t(v >> 32));
  StoreBe32(p + 4, uint32_t(v));
}

// One typed-array argument: its data and element count, as ReadArray gives them.
template <typename T>
struct Span {
  T* data = nullptr;
  size_t length = 0;
  T& operator[](size_t i) const { return data[i]; }
};

template <typename T>
bool Read(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, Span<T>* span) {
  return ReadArray(info, i, type, &span->data, &span->length);
}

// Byte range [start, end) of entry i in a blob whose entries end at ends[0..count).
bool Range(const Span<const uint32_t>& ends, size_t blob, uint32_t i, size_t* start, size_t* end) {
  if (i >= ends.length) return false;
  *start = i == 0 ? 0 : ends[i - 1];
  *end = ends[i];
  return *start <= *end && *end <= blob;
}

// packChallenges(headers, headerEnds, table, scopes, scopeEnds, items, times, text, ids, nonces, refused, macData, tags,
//                prefixes, thresholds): Uint32Array for the ends and items, Float64Array for the times, Uint8Array for the rest.
Napi::Value PackChallenges(const Napi::CallbackInfo& info) {
  Span<const uint8_t> headers, table, scopes, text;
  Span<const uint32_t> header_ends, scope_ends, items;
  Span<const double> times;
  Span<uint8_t> ids, nonces, refused, mac_data, tags, prefixes, thresholds;
  if (!Read(info, 0, napi_uint8_array, &headers) || !Read(info, 1, napi_uint32_array, &header_ends) ||
      !Read(info, 2, napi_uint8_array, &table) || !Read(info, 3, napi_uint8_array, &scopes) ||
      !Read(info, 4, napi_uint32_array, &scope_ends) || !Read(info, 5, napi_uint32_array, &items) ||
      !Read(info, 6, napi_float64_array, &times) || !Read(info, 7, napi_uint8_array, &text) || !Read(info, 8, napi_uint8_array, &ids) ||
      !Read(info, 9, napi_uint8_array, &nonces) || !Read(info, 10, napi_uint8_array, &refused) ||
      !Read(info, 11, napi_uint8_array, &mac_data) || !Read(info, 12, napi_uint8_array, &tags) ||
      !Read(info, 13, napi_uint8_array, &prefixes) || !Read(info, 14, napi_uint8_array, &thresholds)) {
    return Fail(info, "expected packChallenges' 15 typed arrays");
  }
  const size_t count = items.length / kItemWords;
  if (items.length != kItemWords * count || times.length != 2 * count || ids.length < kIdBytes * count || refused.length < count) {
    return Fail(info, "expected 7 item words, 2 times, 16 id bytes and a refusal byte per item");
  }
  const size_t proofs = prefixes.length / kWorkPrefixBytes;
  if (thresholds.length < kThresholdBytes * proofs || nonces.length < kNonceBytes * proofs) {
    return Fail(info, "expected 8 threshold and 8 nonce bytes per proof prefix");
  }

  for (size_t i = 0; i < count; i++) {
    const uint32_t* item = items.data + kItemWords * i;
    const uint32_t entry = item[1], sub = item[3], mac_at = item[4], tag_at = item[5], first = item[6];
    const double issued = times[2 * i], expires = times[2 * i + 1];
    size_t h0, h1, s0, s1;
    if (!Range(header_ends, headers.length, item[0], &h0, &h1) || !Range(scope_ends, scopes.length, item[2], &s0, &s1)) {
      return Fail(info, "key or scope out of range");
    }
    // Header, id, terms, sub-puzzles (u8), scope (u16 length, bytes), issued and expires (u64 each).
    const size_t length = (h1 - h0) + kIdBytes + kTermsBytes + 1 + 2 + (s1 - s0) + 8 + 8;
    // Item i's texts: id, signature, then its nonces; every item before it has its own id and signature.
    const size_t text_at = (kIdChars + kMacChars) * i + kNonceChars * size_t(first);
    if (size_t(entry) + 1 > table.length / kTermsBytes || sub < 1 || sub > kMaxSubPuzzles || s1 - s0 > 0xffff ||
        size_t(mac_at) + length > mac_data.length || size_t(tag_at) + kMacBytes > tags.length || size_t(first) + sub > proofs ||
        text_at + kIdChars + kMacChars + kNonceChars * sub > text.length || !(issued >= 0 && issued <= kMaxTime) ||
        !(expires >= 0 && expires <= kMaxTime)) {
      return Fail(info, "item out of range");
    }
    const uint8_t* item_text = text.data + text_at;
    uint8_t* id = ids.data + kIdBytes * i;
    uint8_t sig[kMacBytes];
    bool canonical = DecodeBase64url(item_text, kIdChars, id) && DecodeBase64url(item_text + kIdChars, kMacChars, sig);
    for (uint32_t j = 0; j < sub; j++) {
      const uint8_t* nonce_text = item_text + kIdChars + kMacChars + kNonceChars * j;
      canonical = DecodeLowerHex(nonce_text, kNonceBytes, nonces.data + kNonceBytes * (size_t(first) + j)) && canonical;
    }
    refused[i] = canonical ? 0 : 1;
    if (!canonical) continue;

    const uint8_t* terms = table.data + kTermsBytes * entry;
    uint8_t* out = mac_data.data + mac_at;
    std::memcpy(out, headers.data + h0, h1 - h0);
    out += h1 - h0;
    std::memcpy(out, id, kIdBytes);
    std::memcpy(out + kIdBytes, terms, kTermsBytes);
    out += kIdBytes + kTermsBytes;
    *out++ = uint8_t(sub);
    *out++ = uint8_t((s1 - s0) >> 8);
    *out++ = uint8_t(s1 - s0);
    if (s1 > s0) std::memcpy(out, scopes.data + s0, s1 - s0);  // an empty blob may have no data pointer
    out += s1 - s0;
    StoreBe64(out, uint64_t(issued));
    StoreBe64(out + 8, uint64_t(expires));
    std::memcpy(tags.data + tag_at, sig, kMacBytes);
    for (uint32_t j = 0; j < sub; j++) {
      uint8_t* prefix = prefixes.data + kWorkPrefixBytes * (first + j);
      std::memcpy(prefix, kWorkLabel, kWorkLabelBytes);
      std::memcpy(prefix + kWorkLabelBytes, sig, kMacBytes);
      StoreBe32(prefix + kWorkLabelBytes + kMacBytes, j);
      std::memcpy(thresholds.data + kThresholdBytes * (first + j), terms + kTermsThresholdAt, kThresholdBytes);
    }
  }
  return info.Env().Undefined();
}

// The wire constants this addon was built with, for the test that holds them to TypeScript's.
Napi::Object WireConstants(Napi::Env env) {
  Napi::Object wire = Napi::Object::New(env);
  wire.Set("workLabel", kWorkLabel);
  wire.Set("idBytes", double(kIdBytes));
  wire.Set("macBytes", double(kMacBytes));
  wire.Set("idChars", double(kIdChars));
  wire.Set("macChars", double(kMacChars));
  wire.Set("nonceBytes", double(kNonceBytes));
  wire.Set("nonceChars", double(kNonceChars));
  wire.Set("thresholdBytes", double(kThresholdBytes));
  wire.Set("termsBytes", double(kTermsBytes));
  wire.Set("maxSubPuzzles", double(kMaxSubPuzzles));
  wire.Set("workPrefixBytes", double(kWorkPrefixBytes));
  wire.Set("workMessageBytes", double(kWorkMessageBytes));
  Napi::Uint8Array padding = Napi::Uint8Array::New(env, 64);
  for (size_t i = 0; i < 64; i++) padding[i] = kWorkBlockPadding.bytes[i];
  wire.Set("workBlockPadding", padding);
  return wire;
}

}  // namespace

void RegisterPackBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("wire", WireConstants(env));
  exports.Set("packChallenges", Napi::Function::New(env, PackChallenges, "packChallenges"));
}

}  // namespace powgate
