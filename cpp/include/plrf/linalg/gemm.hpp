// A deterministic double-precision GEMM for row-major matrices: C = A B with leading dimensions.
//
// Goto-style blocking: A is packed once into MR-row panels per depth block of KC; then each
// thread takes its column panels of C (NC wide) depth block by depth block, packing the kc x NC
// block of B (a few hundred KB: L2) and multiplying it tile by tile with the micro-kernel of
// gemm_kernel.hpp. Each element of C is the sum of its depth blocks in order, each block summed
// sequentially, so the result depends only on KC, a constant of the instruction set: column
// panels can be split across threads without changing a bit. The threads share one parallel
// region per product (not one per depth block), and a product too small to repay starting a
// thread runs on the caller alone.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "plrf/runtime/isa.hpp"
#include "plrf/runtime/parallel.hpp"
#include "plrf/linalg/gemm_kernel.hpp"

namespace plrf::linalg {

// A row-major matrix view: element (i, j) at data[i * ld + j], or at data[j * ld + i] when
// `transposed` (the view of M^T for a row-major M, read in place: no transposed copy).
struct ConstView {
  const double* data;
  std::int64_t ld;
  bool transposed = false;
  const double& at(std::int64_t i, std::int64_t j) const { return transposed ? data[j * ld + i] : data[i * ld + j]; }
};

namespace detail {

// Rows [0, m) x columns [p0, p0 + kc) of A into MR-row panels, zero padded to a multiple of MR.
template <int MR>
void pack_a(ConstView a, std::int64_t m, std::int64_t p0, std::int64_t kc, double* out) {
  for (std::int64_t r = 0; r * MR < m; ++r, out += MR * kc)
    for (int i = 0; i < MR; ++i) {
      const std::int64_t row = r * MR + i;
      if (row >= m) {
        for (std::int64_t p = 0; p < kc; ++p) out[p * MR + i] = 0.0;
        continue;
      }
      for (std::int64_t p = 0; p < kc; ++p) out[p * MR + i] = a.at(row, p0 + p);
    }
}

// Rows [p0, p0 + kc) x columns [j0, j0 + n) of B into NR-column panels, zero padded. A
// transposed B is read along its stored rows (contiguous), 8 depths (one cache line) of each
// panel column at a time, so that the NR x 8 block written stays in L1 (a whole column at a time
// was ~15% slower than packing a plain B).
template <int NR>
void pack_b(ConstView b, std::int64_t p0, std::int64_t kc, std::int64_t j0, std::int64_t n, double* out) {
  for (std::int64_t q = 0; q * NR < n; ++q, out += NR * kc) {
    const std::int64_t cols = std::min<std::int64_t>(NR, n - q * NR);
    if (b.transposed) {
      for (std::int64_t p1 = 0; p1 < kc; p1 += 8) {
        const std::int64_t p2 = std::min<std::int64_t>(p1 + 8, kc);
        for (std::int64_t j = 0; j < NR; ++j) {
          if (j >= cols) {
            for (std::int64_t p = p1; p < p2; ++p) out[p * NR + j] = 0.0;
            continue;
          }
          const double* src = b.data + (j0 + q * NR + j) * b.ld + p0;
          for (std::int64_t p = p1; p < p2; ++p) out[p * NR + j] = src[p];
        }
      }
      continue;
    }
    for (std::int64_t p = 0; p < kc; ++p) {
      const double* src = b.data + (p0 + p) * b.ld + j0 + q * NR;
      double* dst = out + p * NR;
      std::int64_t j = 0;
      for (; j < cols; ++j) dst[j] = src[j];
      for (; j < NR; ++j) dst[j] = 0.0;
    }
  }
}

// A zero-initialised buffer of n doubles whose start is 64-byte aligned.
class AlignedBuffer {
 public:
  explicit AlignedBuffer(std::int64_t n) : store_(static_cast<std::size_t>(n) + 8) {}
  double* data() {
    const auto at = reinterpret_cast<std::uintptr_t>(store_.data());
    return store_.data() + ((64 - at % 64) % 64) / sizeof(double);
  }
  const double* data() const { return const_cast<AlignedBuffer*>(this)->data(); }

 private:
  std::vector<double> store_;
};

inline std::int64_t round_up(std::int64_t x, std::int64_t to) { return (x + to - 1) / to * to; }

// Below this many multiply-adds a product runs on one thread: starting a thread (tens of
// microseconds, far more on a loaded machine) would cost more than it saves. 2^22 is ~0.1 ms of
// work on one core. The result is the same either way.
constexpr std::int64_t kParallelMinFlops = std::int64_t{1} << 22;

// The threads an m x n x k product with nr-column tiles runs on: one below kParallelMinFlops,
// else `threads` (0: all cores), at most one per tile column.
inline int gemm_workers(std::int64_t m, std::int64_t n, std::int64_t k, int threads, int nr) {
  const std::int64_t wanted = m * n * k < kParallelMinFlops ? 1 : resolve_threads(threads);
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(wanted, (n + nr - 1) / nr)));
}

// A (all depth blocks) into MR-row panels: block d at d * round_up(m, MR) * KC.
template <class K>
AlignedBuffer pack_a_blocks(std::int64_t m, std::int64_t k, ConstView a) {
  const std::int64_t depths = (k + K::KC - 1) / K::KC, a_block = round_up(m, K::MR) * K::KC;
  AlignedBuffer packed(depths * a_block);
  for (std::int64_t d = 0; d < depths; ++d)
    pack_a<K::MR>(a, m, d * K::KC, std::min<std::int64_t>(K::KC, k - d * K::KC), packed.data() + d * a_block);
  return packed;
}

// The whole product with kernel K; `block` is K's compiled block function.
template <class K>
void gemm_with(std::int64_t m, std::int64_t n, std::int64_t k, ConstView a, ConstView b, double* c, std::int64_t ldc,
               int threads, void (*block)(const PackedBlock&, const Target&)) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (std::int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0);
    return;
  }
  // Column panels: at most 256 columns (packed B fits L2), and at least one per thread.
  const int workers = gemm_workers(m, n, k, threads, K::NR);
  const std::int64_t nc = std::min<std::int64_t>(round_up(256, K::NR), round_up((n + workers - 1) / workers, K::NR));
  const std::int64_t panels = (n + nc - 1) / nc, depths = (k + K::KC - 1) / K::KC;
  const std::int64_t a_block = round_up(m, K::MR) * K::KC;  // one depth block of packed A
  AlignedBuffer packed_a = pack_a_blocks<K>(m, k, a);
  std::vector<AlignedBuffer> packed_b(static_cast<std::size_t>(workers), AlignedBuffer(nc * K::KC));
  // Worker w takes panels w, w + workers, ...: which thread computes a panel changes nothing.
  parallel_for(workers, workers, [&](std::int64_t w) {
    double* bp = packed_b[static_cast<std::size_t>(w)].data();
    for (std::int64_t d = 0; d < depths; ++d) {  // depth-major: a packed A block serves all the worker's panels
      const std::int64_t p0 = d * K::KC, kc = std::min<std::int64_t>(K::KC, k - p0);
      for (std::int64_t q = w; q < panels; q += workers) {
        const std::int64_t j0 = q * nc, cols = std::min(nc, n - j0);
        pack_b<K::NR>(b, p0, kc, j0, cols, bp);
        block({packed_a.data() + d * a_block, bp, m, cols, kc}, {c + j0, ldc, p0 > 0});
      }
    }
  });
}

}  // namespace detail

// C (m x n, row stride ldc) = A (m x k) B (k x n) with the kernel of instruction set `isa`,
// which the CPU must support (tests call each one; everything else calls gemm below).
inline void gemm_on(Isa isa, std::int64_t m, std::int64_t n, std::int64_t k, ConstView a, ConstView b, double* c,
                    std::int64_t ldc, int threads = 1) {
  switch (isa) {
    case Isa::kAvx512:
      return detail::gemm_with<KernelAvx512>(m, n, k, a, b, c, ldc, threads, gemm_block_avx512);
    case Isa::kAvx2:
      return detail::gemm_with<KernelAvx2>(m, n, k, a, b, c, ldc, threads, gemm_block_avx2);
    default:
      return detail::gemm_with<KernelBaseline>(m, n, k, a, b, c, ldc, threads, gemm_block_baseline);
  }
}

// C = A B on the best instruction set of this CPU. Bitwise the same for any `threads`.
inline void gemm(std::int64_t m, std::int64_t n, std::int64_t k, ConstView a, ConstView b, double* c,
                 std::int64_t ldc, int threads = 1) {
  gemm_on(isa(), m, n, k, a, b, c, ldc, threads);
}

}  // namespace plrf::linalg
