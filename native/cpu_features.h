// Which SHA-256 kernels this build has and this CPU and OS can run (cpuid + xgetbv, read once).
#pragma once

namespace powgate {

enum class Isa : int { kScalar = 0, kShaNi = 1, kAvx2 = 2, kAvx512 = 3 };

// Which microarchitecture the nonce kernels are tuned for: they differ in how many
// independent streams hide an instruction's latency (docs/BENCHMARKS.md, Solving).
enum class Tuning : int { kIntel = 0, kZen = 1 };

struct CpuFeatures {
  bool amd_zen = false;  // AuthenticAMD, family 0x19 or later (Zen 3, 4, 5)
  bool sha_ni = false;   // SHA extensions with SSSE3 and SSE4.1
  bool avx2 = false;     // AVX2 with OS-saved YMM state
  bool avx512 = false;   // AVX-512 F+BW+VL with OS-saved ZMM and opmask state
};

// Which ISA libraries this build links: binding.gyp defines POWGATE_HAVE_<ISA> for
// each one it compiles. Code names a kernel only under `if constexpr` on its flag, so a
// build without a library links, and IsaSupported never offers what is not there.
#ifdef POWGATE_HAVE_SHANI
constexpr bool kHaveShaNi = true;
#else
constexpr bool kHaveShaNi = false;
#endif
#ifdef POWGATE_HAVE_AVX2
constexpr bool kHaveAvx2 = true;
#else
constexpr bool kHaveAvx2 = false;
#endif
#ifdef POWGATE_HAVE_AVX512
constexpr bool kHaveAvx512 = true;
#else
constexpr bool kHaveAvx512 = false;
#endif

const CpuFeatures& DetectCpuFeatures();
// The kernel is linked into this build and this CPU and OS can run it.
bool IsaSupported(Isa isa);
Isa BestIsa();
// POWGATE_TUNING=intel|zen when set (read at each call, so tests can switch), else
// the CPU's own; any other value counts as unset.
Tuning ChosenTuning();

}  // namespace powgate
