// Each binding file adds its functions to the addon's exports.
#pragma once

#include <napi.h>

#include "cpu_features.h"

namespace powgate {

void RegisterCpuBinding(Napi::Env env, Napi::Object exports);
void RegisterHashBinding(Napi::Env env, Napi::Object exports);
void RegisterSolveBinding(Napi::Env env, Napi::Object exports);
void RegisterCheckBinding(Napi::Env env, Napi::Object exports);
void RegisterPackBinding(Napi::Env env, Napi::Object exports);

// Argument helpers. TypeScript validates and explains; these only keep memory safe.

inline Napi::Value Fail(const Napi::CallbackInfo& info, const char* message) {
  Napi::TypeError::New(info.Env(), message).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

// Argument i as a typed array of `type`: its data and element count, in one N-API
// call (these bindings run per request, and every call into V8 costs).
template <typename T>
bool ReadArray(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, T** data, size_t* length) {
  napi_typedarray_type actual;
  void* raw;
  napi_value buffer;
  size_t offset;
  if (i >= info.Length() || napi_get_typedarray_info(info.Env(), info[i], &actual, length, &raw, &buffer, &offset) != napi_ok ||
      actual != type) {
    return false;
  }
  *data = static_cast<T*>(raw);
  return true;
}

// A kernel id this CPU can run.
inline bool ReadIsa(const Napi::Value& value, Isa* isa) {
  if (!value.IsNumber()) return false;
  const int32_t id = value.As<Napi::Number>().Int32Value();
  if (id < int(Isa::kScalar) || id > int(Isa::kAvx512) || !IsaSupported(Isa(id))) return false;
  *isa = Isa(id);
  return true;
}

}  // namespace powgate
