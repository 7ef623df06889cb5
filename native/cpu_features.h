// Which SHA-256 kernels this CPU and OS can run, read once with cpuid + xgetbv.
#pragma once

namespace powgate {

enum class Isa : int { kScalar = 0, kShaNi = 1, kAvx2 = 2, kAvx512 = 3 };

struct CpuFeatures {
  bool sha_ni = false;   // SHA extensions with SSSE3 and SSE4.1
  bool avx2 = false;     // AVX2 with OS-saved YMM state
  bool avx512 = false;   // AVX-512 F+BW+VL with OS-saved ZMM and opmask state
};

const CpuFeatures& DetectCpuFeatures();
bool IsaSupported(Isa isa);
Isa BestIsa();

}  // namespace powgate
