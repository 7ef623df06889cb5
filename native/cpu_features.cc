#include "cpu_features.h"

#include <cstdlib>
#include <cstring>
#include <initializer_list>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

#include <cstdint>
#endif

namespace powgate {

namespace {

#if defined(__x86_64__) || defined(__i386__)
// xgetbv via asm so that this file needs no -mxsave flag.
uint64_t ReadXcr0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}

CpuFeatures Detect() {
  CpuFeatures f;
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return f;
  const bool ssse3 = ecx & (1u << 9);
  const bool sse41 = ecx & (1u << 19);
  const bool osxsave = ecx & (1u << 27);
  const bool avx = ecx & (1u << 28);
  const unsigned family = ((eax >> 8) & 0xf) == 0xf ? 0xf + ((eax >> 20) & 0xff) : (eax >> 8) & 0xf;
  unsigned max_leaf, vendor[3];
  __get_cpuid(0, &max_leaf, &vendor[0], &vendor[2], &vendor[1]);
  f.amd_zen = std::memcmp(vendor, "AuthenticAMD", 12) == 0 && family >= 0x19;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return f;
  const bool avx2 = ebx & (1u << 5);
  const bool avx512f = ebx & (1u << 16);
  const bool sha = ebx & (1u << 29);
  const bool avx512bw = ebx & (1u << 30);
  const bool avx512vl = ebx & (1u << 31);

  f.sha_ni = sha && ssse3 && sse41;
  if (!osxsave) return f;
  const uint64_t xcr0 = ReadXcr0();
  const bool ymm_saved = (xcr0 & 0x6) == 0x6;    // XMM and YMM
  const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;  // plus opmask, ZMM_Hi256, Hi16_ZMM
  f.avx2 = avx && avx2 && ymm_saved;
  f.avx512 = f.avx2 && avx512f && avx512bw && avx512vl && zmm_saved;
  return f;
}
#else
CpuFeatures Detect() { return CpuFeatures(); }
#endif

}  // namespace

const CpuFeatures& DetectCpuFeatures() {
  static const CpuFeatures features = Detect();
  return features;
}

bool IsaSupported(Isa isa) {
  const CpuFeatures& f = DetectCpuFeatures();
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kShaNi: return kHaveShaNi && f.sha_ni;
    case Isa::kAvx2: return kHaveAvx2 && f.avx2;
    case Isa::kAvx512: return kHaveAvx512 && f.avx512;
  }
  return false;
}

Isa BestIsa() {
  for (Isa isa : {Isa::kAvx512, Isa::kShaNi, Isa::kAvx2}) {
    if (IsaSupported(isa)) return isa;
  }
  return Isa::kScalar;
}

Tuning ChosenTuning() {
  const char* forced = std::getenv("POWGATE_TUNING");
  if (forced != nullptr && std::strcmp(forced, "intel") == 0) return Tuning::kIntel;
  if (forced != nullptr && std::strcmp(forced, "zen") == 0) return Tuning::kZen;
  return DetectCpuFeatures().amd_zen ? Tuning::kZen : Tuning::kIntel;
}

}  // namespace powgate
