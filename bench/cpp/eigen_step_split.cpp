// Where the eigen path's step spends its time at d = 4000, B = 1, per instruction set, and how
// fast this CPU's 512-bit units really are against its 256-bit ones.
//
// Why it exists: issue 13 asks the eigen path for 8x the NumPy loop on AVX2 and 15x on AVX-512,
// i.e. for AVX-512 to be ~1.9x faster per coordinate. That holds where a core runs 512-bit
// instructions at full rate. Where it splits them into two 256-bit halves (AMD Zen 4), the lane
// rate is the same at both widths, and this program shows it, then the step's split:
//
//   lane rate      64-bit lanes per ns of vpmuludq, vpxorq and vmulpd, 8 vs 4 lanes per op
//   philox         Philox4x32-10 alone (the rounds of normal.hpp's batches), ns per normal
//   normals        rng fill_normals of 4000 normals, ns per normal
//   step sgd, mom  the fused eigen step (simulate/eigen_fused.hpp) per coordinate, SGD and
//                  momentum (DANA's update, which bench/simulate_table.py times)
//
// Timings are minima over repeats (the machine is shared and noisy). Build with the C++ tests:
//   cmake -S . -B build -DPLRF_BUILD_TESTS=ON && cmake --build build -t plrf_eigen_step_split
//   build/plrf_eigen_step_split
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "plrf/rng/normal.hpp"
#include "plrf/simulate/eigen_fused.hpp"

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double min_ns(F f, int repeats) {
  double best = 1e300;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
  }
  return best;
}

volatile std::uint64_t g_sink;  // keeps every result alive

#if PLRF_X86_DISPATCH
// Twelve independent chains of one operation on W-lane vectors: throughput, not latency, bound.
// Named variables and the empty asm keep the chains in registers (an array went to the stack)
// and stop the compiler from folding them.
template <class V, class Op>
PLRF_ALWAYS_INLINE std::uint64_t chains(long n, V seed, Op op) {
  V a0 = seed + 3, a1 = seed + 5, a2 = seed + 7, a3 = seed + 9, a4 = seed + 11, a5 = seed + 13, a6 = seed + 15,
    a7 = seed + 17, a8 = seed + 19, a9 = seed + 21, a10 = seed + 23, a11 = seed + 25;
  for (long i = 0; i < n; ++i) {
    a0 = op(a0, seed), a1 = op(a1, seed), a2 = op(a2, seed), a3 = op(a3, seed), a4 = op(a4, seed), a5 = op(a5, seed);
    a6 = op(a6, seed), a7 = op(a7, seed), a8 = op(a8, seed), a9 = op(a9, seed), a10 = op(a10, seed), a11 = op(a11, seed);
    asm volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5), "+v"(a6), "+v"(a7), "+v"(a8),
                 "+v"(a9), "+v"(a10), "+v"(a11));
  }
  const V s = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11));
  return static_cast<std::uint64_t>(s[0]);
}

enum class Op { kMul32, kXor, kMulPd };

struct LaneWork {
  template <int W>
  PLRF_ALWAYS_INLINE static std::uint64_t run(Op op, long n) {
    using U = plrf::rng::lanes::U64<W>;
    using F = plrf::rng::lanes::F64<W>;
    const U u = U{} + 0xD2511F53ULL;
    if (op == Op::kMul32) return chains(n, u, [](U x, U y) { return plrf::rng::lanes::mul32<W>(x, y); });
    if (op == Op::kXor) return chains(n, u, [](U x, U y) { return x ^ y; });
    return chains(n, F{} + 1.0000001, [](F x, F y) { return x * y; });
  }
};

void lane_rates() {
  std::printf("lane rate (64-bit lanes per ns; 12 independent chains):\n");
  const long n = 20'000'000;
  const struct {
    Op op;
    const char* name;
  } ops[] = {{Op::kMul32, "vpmuludq"}, {Op::kXor, "vpxorq"}, {Op::kMulPd, "vmulpd"}};
  for (const auto& o : ops) {
    const double t512 = min_ns([&] { g_sink = plrf::on_isa<LaneWork>(plrf::Isa::kAvx512, o.op, n); }, 3);
    const double t256 = min_ns([&] { g_sink = plrf::on_isa<LaneWork>(plrf::Isa::kAvx2, o.op, n); }, 3);
    const double r512 = 12.0 * 8 * n / t512, r256 = 12.0 * 4 * n / t256;
    std::printf("  %-9s 512-bit %6.2f  256-bit %6.2f  ratio %.2f\n", o.name, r512, r256, r512 / r256);
  }
}

#endif

// The Philox rounds of normal.hpp's batches alone (their outputs xor-folded), 32 normals per 8 blocks.
struct PhiloxOnly {
  template <int W>
  PLRF_ALWAYS_INLINE static void run(const plrf::rng::RoundKeys& rk, std::uint64_t blocks) {
    plrf::rng::lanes::U64<W> s{};
    for (std::uint64_t b = 0; b < blocks; b += 2 * W) {
      plrf::rng::lanes::U64<W> v[4], v1[4];
      plrf::rng::philox_blocks_pair<W>(rk, 7, 9, b, b + W, v, v1);
      s ^= v[0] ^ v[1] ^ v[2] ^ v[3] ^ v1[0] ^ v1[1] ^ v1[2] ^ v1[3];
    }
    g_sink = s[0];
  }
};

struct EigenState {
  std::int64_t d;
  std::vector<double> sl, e, y, xi, out;
  explicit EigenState(std::int64_t d_) : d(d_), sl(d_), e(d_, 0.1), y(d_, 0.0), xi(d_, 0.0), out(d_) {
    for (std::int64_t j = 0; j < d; ++j) sl[j] = std::pow(j + 1.0, -0.8);
  }
  plrf::simulate::fused::FastPass pass() { return {sl.data(), e.data(), y.data(), xi.data(), d, -1e-3, 1e-3}; }
};

void step_split(plrf::Isa on) {
  const std::int64_t d = 4000;
  const int repeats = 400;
  EigenState st(d);
  const plrf::rng::StreamKey key{12345, 3};
  std::uint64_t t = 1;
  const plrf::rng::RoundKeys rk(key.key());
  const double philox = min_ns([&] { plrf::on_isa<PhiloxOnly>(on, rk, d / 4); }, repeats) / d;
  const double normals =
      min_ns([&] { plrf::rng::detail::fill<plrf::rng::detail::Draw::kNormal>(on, key, ++t, 0, d, st.out.data()); },
             repeats) / d;
  double step[2];
  for (int momentum = 0; momentum < 2; ++momentum) {
    const plrf::simulate::MomentumStep u(plrf::Coefficients{momentum ? 0.1 : 0.0, 0.5, momentum ? 0.2 : 0.0, 0.01},
                                         momentum == 0);
    double energy, dot;
    step[momentum] = min_ns([&] { plrf::simulate::fused::fused_on(on, st.pass(), u, key, ++t, energy, dot); }, repeats) / d;
    g_sink = static_cast<std::uint64_t>(energy + dot);
  }
  std::printf("  %-8s  philox %.3f  normals %.3f  step sgd %.3f  step mom %.3f   (ns per normal or coordinate)\n",
              plrf::isa_name(on), philox, normals, step[0], step[1]);
}

}  // namespace

int main() {
  std::printf("plrf isa(): %s\n", plrf::isa_name(plrf::isa()));
#if PLRF_X86_DISPATCH
  if (plrf::isa() == plrf::Isa::kAvx512) lane_rates();
#endif
  std::printf("eigen step split, d = 4000 (min of 400 calls):\n");
  for (int i = static_cast<int>(plrf::isa()); i >= 0; --i) step_split(static_cast<plrf::Isa>(i));
}
