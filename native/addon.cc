// The addon's entry point: registration only; each concern lives in its own file.
#include "bindings.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  powgate::RegisterCpuBinding(env, exports);
  powgate::RegisterHashBinding(env, exports);
  powgate::RegisterSolveBinding(env, exports);
  powgate::RegisterCheckBinding(env, exports);
  powgate::RegisterPackBinding(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(powgate, Init)
