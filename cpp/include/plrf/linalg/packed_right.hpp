// A right operand packed once, for many products by the same matrix: the parameter-basis engine
// multiplies by U and U^T every step, and packing them anew (what gemm does) cost a fifth of each
// product, so they are packed once per run.
//
// The packed form is gemm's own (pack_b over the full width, depth block by depth block, for the
// kernel of one instruction set), and gemm_packed runs the same tiles with the same sums, so
// gemm_packed(A, PackedRight(B)) equals gemm(A, B) bit for bit, on any number of threads. Only the
// visiting order differs: a thread takes a contiguous run of NR-column micro-panels and, within a
// depth block, sweeps each micro-panel over all rows of A while it is still in L1, instead of
// streaming 256-column panels from L2 (1.6x the rate at 64 x 2048 x 2048).
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "plrf/linalg/gemm.hpp"
#include "plrf/runtime/isa.hpp"
#include "plrf/runtime/parallel.hpp"
#include "plrf/runtime/team.hpp"

namespace plrf::linalg {

namespace detail {

// n doubles, left uninitialised (the packing writes every double that is read) and, on Linux, on
// transparent huge pages where the system allows them: 2 x 32 MB in 4 KB pages cost more in page
// faults than the packing itself, and the products stream the whole buffer every step.
class RawBuffer {
 public:
  explicit RawBuffer(std::int64_t n) {
    std::size_t bytes = static_cast<std::size_t>(n) * sizeof(double);
    const std::size_t align = bytes >= 2 * kHugePage ? kHugePage : 64;  // small buffers: a cache line
    bytes = (bytes + align - 1) / align * align;
    store_ = std::malloc(bytes + align);  // aligned by hand below: portable, at most `align` spare
    if (store_ == nullptr) throw std::bad_alloc();
    const auto at = reinterpret_cast<std::uintptr_t>(store_);
    data_ = reinterpret_cast<double*>((at + align - 1) / align * align);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == kHugePage) madvise(data_, bytes, MADV_HUGEPAGE);  // advice only: the buffer is the same
#endif
  }
  ~RawBuffer() { std::free(store_); }
  RawBuffer(const RawBuffer&) = delete;
  RawBuffer& operator=(const RawBuffer&) = delete;
  double* data() const { return data_; }

 private:
  static constexpr std::size_t kHugePage = std::size_t{1} << 21;
  void* store_ = nullptr;
  double* data_ = nullptr;
};

}  // namespace detail

class PackedRight {
 public:
  // B (k x n) packed for the kernel of `on` (the CPU must support it); threads pack depth blocks.
  PackedRight(Isa on, std::int64_t k, std::int64_t n, ConstView b, int threads = 1)
      : isa_(on), k_(k), n_(n), nr_(nr_of(on)), kc_(kc_of(on)),
        stride_(detail::round_up(std::max<std::int64_t>(n, 1), nr_) * kc_), data_(depths() * stride_) {
    parallel_for(depths(), threads, [&](std::int64_t d) {
      const std::int64_t p0 = d * kc_, kc = std::min(kc_, k_ - p0);
      switch (isa_) {
        case Isa::kAvx512: return detail::pack_b<KernelAvx512::NR>(b, p0, kc, 0, n_, block_data(d));
        case Isa::kAvx2: return detail::pack_b<KernelAvx2::NR>(b, p0, kc, 0, n_, block_data(d));
        default: return detail::pack_b<KernelBaseline::NR>(b, p0, kc, 0, n_, block_data(d));
      }
    });
  }

  Isa isa() const { return isa_; }
  std::int64_t rows() const { return k_; }
  std::int64_t cols() const { return n_; }
  std::int64_t depths() const { return (k_ + kc_ - 1) / kc_; }
  // Depth block d: NR-column micro-panels, micro-panel q at q * NR * kc (kc: the block's depth).
  const double* block(std::int64_t d) const { return data_.data() + d * stride_; }

 private:
  double* block_data(std::int64_t d) { return data_.data() + d * stride_; }
  static std::int64_t nr_of(Isa on) {
    return on == Isa::kAvx512 ? KernelAvx512::NR : on == Isa::kAvx2 ? KernelAvx2::NR : KernelBaseline::NR;
  }
  static std::int64_t kc_of(Isa on) {
    return on == Isa::kAvx512 ? KernelAvx512::KC : on == Isa::kAvx2 ? KernelAvx2::KC : KernelBaseline::KC;
  }

  Isa isa_;
  std::int64_t k_, n_, nr_, kc_, stride_;
  detail::RawBuffer data_;
};

namespace detail {

// The product on `threads` workers, started by `run(workers, body)`: parallel_for's, or a kept Team's.
template <class K, class Run>
void gemm_packed_with(std::int64_t m, ConstView a, const PackedRight& b, double* c, std::int64_t ldc, int threads,
                      void (*block)(const PackedBlock&, const Target&), Run&& run) {
  const std::int64_t n = b.cols(), k = b.rows();
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (std::int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0);
    return;
  }
  const int workers = gemm_workers(m, n, k, threads, K::NR);
  const std::int64_t panels = (n + K::NR - 1) / K::NR, a_block = round_up(m, K::MR) * K::KC;
  AlignedBuffer packed_a = pack_a_blocks<K>(m, k, a);
  // Worker w takes micro-panels [w P / workers, (w + 1) P / workers): contiguous, so its share of the
  // packed B streams in order; which thread computes a tile changes nothing.
  run(workers, [&](std::int64_t w) {
    const std::int64_t q0 = w * panels / workers, q1 = (w + 1) * panels / workers;
    const auto depth = [&](std::int64_t d) { return std::min<std::int64_t>(K::KC, k - d * K::KC); };
    for (std::int64_t d = 0; d < b.depths(); ++d) {
      const std::int64_t kc = depth(d);
      const double* pa = packed_a.data() + d * a_block;
      for (std::int64_t q = q0; q < q1; ++q) {
        // The micro-panel this worker takes next: q + 1, or its first one of the next depth block.
        const bool wraps = q + 1 == q1;
        const std::int64_t next_d = wraps ? d + 1 : d, next_kc = next_d < b.depths() ? depth(next_d) : 0;
        const double* next = next_kc > 0 ? b.block(next_d) + (wraps ? q0 : q + 1) * K::NR * next_kc : nullptr;
        block({pa, b.block(d) + q * K::NR * kc, m, std::min<std::int64_t>(K::NR, n - q * K::NR), kc, next,
               K::NR * next_kc},
              {c + q * K::NR, ldc, d > 0});
      }
    }
  });
}

template <class Run>
void gemm_packed_on(std::int64_t m, ConstView a, const PackedRight& b, double* c, std::int64_t ldc, int threads,
                    Run&& run) {
  switch (b.isa()) {
    case Isa::kAvx512:
      return gemm_packed_with<KernelAvx512>(m, a, b, c, ldc, threads, gemm_block_avx512, run);
    case Isa::kAvx2:
      return gemm_packed_with<KernelAvx2>(m, a, b, c, ldc, threads, gemm_block_avx2, run);
    default:
      return gemm_packed_with<KernelBaseline>(m, a, b, c, ldc, threads, gemm_block_baseline, run);
  }
}

}  // namespace detail

// C (m x n, row stride ldc) = A (m x k) B for a packed B, on B's instruction set. Bitwise gemm(A, B)
// on that instruction set, for any `threads`.
inline void gemm_packed(std::int64_t m, ConstView a, const PackedRight& b, double* c, std::int64_t ldc,
                        int threads = 1) {
  detail::gemm_packed_on(m, a, b, c, ldc, threads,
                         [](std::int64_t n, auto&& body) { parallel_for(n, static_cast<int>(n), body); });
}

// The same on a kept team of threads (runtime/team.hpp), for products repeated every step.
inline void gemm_packed(std::int64_t m, ConstView a, const PackedRight& b, double* c, std::int64_t ldc, Team& team) {
  detail::gemm_packed_on(m, a, b, c, ldc, team.size(),
                         [&team](std::int64_t n, auto&& body) { team.run(n, body); });
}

}  // namespace plrf::linalg
