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
  if (!IsTyped(info[1], napi_uint8_array) || !IsTyped(info[2], napi_uint32_array) ||
      !IsTyped(info[3], napi_uint8_array)) {
    return Fail(info, "expected (isa, Uint8Array, Uint32Array, Uint8Array)");
  }
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  Napi::Uint32Array offsets = info[2].As<Napi::Uint32Array>();
  Napi::Uint8Array out = info[3].As<Napi::Uint8Array>();
  if (offsets.ElementLength() == 0) return Fail(info, "offsets must hold count + 1 entries");
  const size_t count = offsets.ElementLength() - 1;
  if (out.ByteLength() != 32 * count) return Fail(info, "out must hold 32 bytes per message");
  const uint32_t* o = offsets.Data();
  for (size_t i = 0; i < count; i++) {
    if (o[i] > o[i + 1]) return Fail(info, "offsets must not decrease");
  }
  if (o[count] > data.ByteLength()) return Fail(info, "offsets run past the data");
  HashOffsets(isa, data.Data(), o, count, out.Data());
  return info.Env().Undefined();
}

// hashUniform(isa, data: Uint8Array, length: number, out: Uint8Array)
Napi::Value HashUniformJs(const Napi::CallbackInfo& info) {
  Isa isa;
  if (!ReadIsa(info[0], &isa)) return Fail(info, "unsupported isa");
  if (!IsTyped(info[1], napi_uint8_array) || !info[2].IsNumber() || !IsTyped(info[3], napi_uint8_array)) {
    return Fail(info, "expected (isa, Uint8Array, number, Uint8Array)");
  }
  Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
  const int64_t length = info[2].As<Napi::Number>().Int64Value();
  Napi::Uint8Array out = info[3].As<Napi::Uint8Array>();
  if (!UniformSizesOk(length, data.ByteLength(), out.ByteLength())) return Fail(info, "data must hold count * length bytes");
  const size_t count = out.ByteLength() / 32;
  HashUniform(isa, data.Data(), size_t(length), count, out.Data());
  return info.Env().Undefined();
}

}  // namespace

void RegisterHashBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("hashOffsets", Napi::Function::New(env, HashOffsetsJs, "hashOffsets"));
  exports.Set("hashUniform", Napi::Function::New(env, HashUniformJs, "hashUniform"));
}

}  // namespace powgate
