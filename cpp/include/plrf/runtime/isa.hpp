// Runtime choice of instruction set for the few hot kernels. The build stays portable (no
// -march), and a kernel written once as an always-inline body is compiled three times: for
// AVX-512, for AVX2+FMA and for the baseline, then picked on the running CPU:
//
//   struct Kernel { template <int W> PLRF_ALWAYS_INLINE static R run(...) { ... } };
//   R r = plrf::on_isa<Kernel>(plrf::isa(), ...);
//
// W is the number of 64-bit lanes in one vector register of that instruction set (8, 4, 2);
// kernels that leave vectorising to the compiler ignore it.
//
// PLRF_ISA=baseline|avx2|avx512 caps the choice (tests, benchmarks). Results may differ in the
// last bits between instruction sets (FMA), never between runs or thread counts on one machine.
#pragma once
#include <cstdlib>
#include <cstring>
#include <utility>

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
#define PLRF_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define PLRF_ALWAYS_INLINE __forceinline
#define PLRF_NOINLINE __declspec(noinline)
#else
#define PLRF_ALWAYS_INLINE inline
#define PLRF_NOINLINE
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

// 64-bit lanes per vector register on instruction set `on`: the W its kernels run with.
constexpr int lanes_of(Isa on) { return on == Isa::kAvx512 ? 8 : on == Isa::kAvx2 ? 4 : 2; }

namespace detail {
// Kernel::run<W> compiled for each instruction set: the body is always inlined, so it is compiled
// with the target of the function it lands in. Never inlined themselves: the baseline one, which
// could be, then compiled differently in every caller (the fused eigen pass ran 25% slower).
template <class Kernel, class... A>
PLRF_TARGET_AVX512 PLRF_NOINLINE decltype(auto) run_avx512(A&&... a) {
  return Kernel::template run<lanes_of(Isa::kAvx512)>(std::forward<A>(a)...);
}
template <class Kernel, class... A>
PLRF_TARGET_AVX2 PLRF_NOINLINE decltype(auto) run_avx2(A&&... a) {
  return Kernel::template run<lanes_of(Isa::kAvx2)>(std::forward<A>(a)...);
}
template <class Kernel, class... A>
PLRF_NOINLINE decltype(auto) run_baseline(A&&... a) {
  return Kernel::template run<lanes_of(Isa::kBaseline)>(std::forward<A>(a)...);
}
}  // namespace detail

// Kernel::run<W>(a...) on instruction set `on`, which the CPU must support (isa() everywhere but
// in the tests that compare instruction sets).
template <class Kernel, class... A>
decltype(auto) on_isa(Isa on, A&&... a) {
#if PLRF_X86_DISPATCH
  if (on == Isa::kAvx512) return detail::run_avx512<Kernel>(std::forward<A>(a)...);
  if (on == Isa::kAvx2) return detail::run_avx2<Kernel>(std::forward<A>(a)...);
#endif
  (void)on;
  return detail::run_baseline<Kernel>(std::forward<A>(a)...);
}

}  // namespace plrf
