// cpuFeatures(): what the kernels can use here, so that TypeScript can choose and explain.
#include "bindings.h"
#include "cpu_features.h"

namespace powgate {

namespace {

Napi::Value CpuFeaturesJs(const Napi::CallbackInfo& info) {
  const CpuFeatures& f = DetectCpuFeatures();
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("shani", f.sha_ni);
  result.Set("avx2", f.avx2);
  result.Set("avx512", f.avx512);
  result.Set("best", int(BestIsa()));
  result.Set("tuning", ChosenTuning() == Tuning::kZen ? "zen" : "intel");
  return result;
}

}  // namespace

void RegisterCpuBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeaturesJs, "cpuFeatures"));
}

}  // namespace powgate
