// Runtime choice of instruction set for the few hot kernels. The build stays portable (no
// -march), and a kernel written once as an always-inline body is compiled three times: for
// AVX-512, for AVX2+FMA and for the baseline, then picked on the running CPU.
//
//   PLRF_ALWAYS_INLINE void body(...) { ... }
//   PLRF_TARGET_AVX512 void body_avx512(...) { body(...); }   // and _avx2, and plain
//   switch (plrf::isa()) { ... }
//
// PLRF_ISA=baseline|avx2|avx512 caps the choice (tests, benchmarks). Results may differ in the
// last bits between instruction sets (FMA), never between runs or thread counts on one machine.
#pragma once
#include <cstdlib>
#include <cstring>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(PLRF_NO_DISPATCH)
#define PLRF_X86_DISPATCH 1
#define PLRF_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma,bmi2")))
#define PLRF_TARGET_AVX2 __attribute__((target("avx2,fma,bmi2")))
#else
#define PLRF_X86_DISPATCH 0
#define PLRF_TARGET_AVX512
#define PLRF_TARGET_AVX2
#endif

#if defined(__GNUC__)
#define PLRF_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define PLRF_ALWAYS_INLINE __forceinline
#else
#define PLRF_ALWAYS_INLINE inline
#endif

namespace plrf {

enum class Isa { kBaseline = 0, kAvx2 = 1, kAvx512 = 2 };

inline const char* isa_name(Isa i) {
  return i == Isa::kAvx512 ? "avx512" : i == Isa::kAvx2 ? "avx2" : "baseline";
}

namespace detail {
inline Isa detect_isa() {
  Isa best = Isa::kBaseline;
#if PLRF_X86_DISPATCH
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) best = Isa::kAvx2;
  if (best == Isa::kAvx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl"))
    best = Isa::kAvx512;
#endif
  if (const char* cap = std::getenv("PLRF_ISA")) {
    const Isa want = !std::strcmp(cap, "baseline") ? Isa::kBaseline : !std::strcmp(cap, "avx2") ? Isa::kAvx2 : best;
    if (static_cast<int>(want) < static_cast<int>(best)) best = want;
  }
  return best;
}
}  // namespace detail

// The instruction set the hot kernels use on this CPU (decided once per process).
inline Isa isa() {
  static const Isa chosen = detail::detect_isa();
  return chosen;
}

}  // namespace plrf
