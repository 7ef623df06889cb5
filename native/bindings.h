// Each binding file adds its functions to the addon's exports.
#pragma once

#include <napi.h>

namespace powgate {

void RegisterCpuBinding(Napi::Env env, Napi::Object exports);
void RegisterHashBinding(Napi::Env env, Napi::Object exports);
void RegisterSolveBinding(Napi::Env env, Napi::Object exports);

}  // namespace powgate
