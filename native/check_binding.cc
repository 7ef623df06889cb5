// checkProofs / checkMacs: one synchronous call checks a whole packed batch.
#include "arg_sizes.h"
#include "bindings.h"
#include "check.h"

namespace powgate {

namespace {

// checkProofs(isa, prefixes: Uint8Array, nonces: Uint8Array, thresholds: Uint8Array, verdicts: Uint8Array)
Napi::Value CheckProofsJs(const Napi::CallbackInfo& info) {
  Isa isa;
  if (!ReadIsa(info[0], &isa)) return Fail(info, "unsupported isa");
  const uint8_t *prefixes, *nonces, *thresholds;
  uint8_t* verdicts;
  size_t prefix_bytes, nonce_bytes, threshold_bytes, count;
  if (!ReadArray(info, 1, napi_uint8_array, &prefixes, &prefix_bytes) || !ReadArray(info, 2, napi_uint8_array, &nonces, &nonce_bytes) ||
      !ReadArray(info, 3, napi_uint8_array, &thresholds, &threshold_bytes) || !ReadArray(info, 4, napi_uint8_array, &verdicts, &count)) {
    return Fail(info, "expected (isa, Uint8Array x 4)");
  }
  if (!ProofSizesOk(kWorkPrefixBytes, count, prefix_bytes, nonce_bytes, threshold_bytes)) {
    return Fail(info, "expected 40 prefix bytes, 8 nonce bytes and 8 threshold bytes per verdict");
  }
  CheckProofs(isa, {prefixes, nonces, thresholds, count, verdicts});
  return info.Env().Undefined();
}

// checkMacs(isa, pads: Uint32Array, keyIndexes: Uint8Array, data: Uint8Array, length, macs: Uint8Array, verdicts: Uint8Array)
Napi::Value CheckMacsJs(const Napi::CallbackInfo& info) {
  Isa isa;
  if (!ReadIsa(info[0], &isa)) return Fail(info, "unsupported isa");
  const uint32_t* pads;
  const uint8_t *key_index, *data, *macs;
  uint8_t* verdicts;
  size_t pad_words, indexes, data_bytes, mac_bytes, count;
  if (!ReadArray(info, 1, napi_uint32_array, &pads, &pad_words) || !ReadArray(info, 2, napi_uint8_array, &key_index, &indexes) ||
      !ReadArray(info, 3, napi_uint8_array, &data, &data_bytes) || !info[4].IsNumber() ||
      !ReadArray(info, 5, napi_uint8_array, &macs, &mac_bytes) || !ReadArray(info, 6, napi_uint8_array, &verdicts, &count)) {
    return Fail(info, "expected (isa, Uint32Array, Uint8Array, Uint8Array, number, Uint8Array, Uint8Array)");
  }
  const int64_t length = info[4].As<Napi::Number>().Int64Value();
  if (!MacSizesOk(length, count, indexes, data_bytes, mac_bytes)) {
    return Fail(info, "expected one key index, length data bytes and 32 mac bytes per verdict");
  }
  const size_t keys = pad_words / 16;
  if (keys == 0 || pad_words != 16 * keys) return Fail(info, "expected 16 pad words per key");
  for (size_t i = 0; i < count; i++) {
    if (key_index[i] >= keys) return Fail(info, "key index out of range");
  }
  CheckMacs(isa, {pads, key_index, data, size_t(length), count, macs, verdicts});
  return info.Env().Undefined();
}

}  // namespace

void RegisterCheckBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("checkProofs", Napi::Function::New(env, CheckProofsJs, "checkProofs"));
  exports.Set("checkMacs", Napi::Function::New(env, CheckMacsJs, "checkMacs"));
}

}  // namespace powgate
