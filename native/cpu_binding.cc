// cpuFeatures(): which kernels this build has and this CPU runs, so that TypeScript can
// choose and explain.
#include "bindings.h"
#include "cpu_features.h"

namespace powgate {

namespace {

Napi::Value CpuFeaturesJs(const Napi::CallbackInfo& info) {
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("shani", IsaSupported(Isa::kShaNi));
  result.Set("avx2", IsaSupported(Isa::kAvx2));
  result.Set("avx512", IsaSupported(Isa::kAvx512));
  result.Set("best", int(BestIsa()));
  result.Set("tuning", ChosenTuning() == Tuning::kZen ? "zen" : "intel");
  return result;
}

}  // namespace

void RegisterCpuBinding(Napi::Env env, Napi::Object exports) {
  exports.Set("cpuFeatures", Napi::Function::New(env, CpuFeaturesJs, "cpuFeatures"));
}

}  // namespace powgate
