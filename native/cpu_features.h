// Which SHA-256 kernels this CPU and OS can run, read once with cpuid + xgetbv.
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

const CpuFeatures& DetectCpuFeatures();
bool IsaSupported(Isa isa);
Isa BestIsa();
// POWGATE_TUNING=intel|zen when set (read at each call, so tests can switch), else
// the CPU's own; any other value counts as unset.
Tuning ChosenTuning();

}  // namespace powgate
