// hashOffsets / hashUniform: one synchronous call hashes a whole packed batch.
// TypeScript validates and explains; these checks only keep memory safe.
#include "arg_sizes.h"
#include "bindings.h"
#include "sha256_batch.h"

namespace powgate {

namespace {

// hashOffsets(isa, data: Uint8Array, offsets: Uint32Array, out: Uint8Array)
Napi::Value HashOffsetsJs(const Napi::CallbackInfo& info) {
  Isa isa;
  if (!ReadIsa(info[0], &isa)) return Fail(info, "unsupported isa");
  const uint8_t* data;
  const uint32_t* o;
  uint8_t* out;
  size_t data_bytes, entries, out_bytes;
  if (!ReadArray(info, 1, napi_uint8_array, &data, &data_bytes) || !ReadArray(info, 2, napi_uint32_array, &o, &entries) ||
      !ReadArray(info, 3, napi_uint8_array, &out, &out_bytes)) {
    return Fail(info, "expected (isa, Uint8Array, Uint32Array, Uint8Array)");
  }
  if (entries == 0) return Fail(info, "offsets must hold count + 1 entries");
  const size_t count = entries - 1;
  if (out_bytes != 32 * count) return Fail(info, "out must hold 32 bytes per message");
  for (size_t i = 0; i < count; i++) {
    if (o[i] > o[i + 1]) return Fail(info, "offsets must not decrease");
  }
  if (o[count] > data_bytes) return Fail(info, "offsets run past the data");
  HashOffsets(isa, data, o, count, out);
  return info.Env().Undefined();
}

// hashUniform(isa, data: Uint8Array, length: number, out: Uint8Array)
Napi::Value HashUniformJs(const Napi::CallbackInfo& info) {
  Isa isa;
  if (!ReadIsa(info[0], &isa)) return Fail(info, "unsupported isa");
  const uint8_t* data;
  uint8_t* out;
  size_t data_bytes, out_bytes;
  if (!ReadArray(info, 1, napi_uint8_array, &data, &data_bytes) || !info[2].IsNumber() ||
      !ReadArray(info, 3, napi_uint8_array, &out, &out_bytes)) {
    return Fail(info, "expected (isa, Uint8Array, number, Uint8Array)");
  }
  const int64_t length = info[2].As<Napi::Number>().Int64Value();
  if (!UniformSizesOk(length, data_bytes, out_bytes)) return Fail(info, "data must hold count * length bytes");
  HashUniform(isa, data, size_t(length), out_bytes / 32, out);
  return info.Env().Undefined();
}

}  // namespace

void RegisterHashBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("hashOffsets", Napi::Function::New(env, HashOffsetsJs, "hashOffsets"));
  exports.Set("hashUniform", Napi::Function::New(env, HashUniformJs, "hashUniform"));
}

}  // namespace powgate
