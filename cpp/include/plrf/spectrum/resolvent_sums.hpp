// The three sums over data directions that the resolvent equation of theory.hpp needs at one (m, z),
// in one pass and in real arithmetic (std::complex division neither vectorises nor inlines):
//   S1 = sum_j wd_j / (D_j m - z),  S2 = sum_j wd_j / (D_j m - z)^2,  S3 = sum_j wb_j / (D_j m - z)
// with wd = weight D / d and wb = weight D b^2. Newton on F(m) = m - 1 + m S1 needs F' = 1 - z S2,
// and the rho transform is S3. L lanes of partial sums per pass, compiled per instruction set
// (runtime/isa.hpp); the arrays are padded to a multiple of 8 with zero weights.
#pragma once
#include <complex>
#include <cstddef>
#include <vector>

#include "plrf/runtime/isa.hpp"

namespace plrf::theory_spectrum {

struct ResolventTerms {
  std::vector<double> D, wd, wb;  // padded to a multiple of kPad (D = 1, weights 0)
  static constexpr std::size_t kPad = 8;
  void pad() {
    while (D.size() % kPad) D.push_back(1.0), wd.push_back(0.0), wb.push_back(0.0);
  }
};

struct Sums {
  std::complex<double> s1, s2, s3;
};

template <int L>
PLRF_ALWAYS_INLINE Sums resolvent_sums_body(const ResolventTerms& t, std::complex<double> m, std::complex<double> z) {
  double s1r[L] = {}, s1i[L] = {}, s2r[L] = {}, s2i[L] = {}, s3r[L] = {}, s3i[L] = {};
  const double mr = m.real(), mi = m.imag(), zr = z.real(), zi = z.imag();
  const double *D = t.D.data(), *wd = t.wd.data(), *wb = t.wb.data();
  for (std::size_t i = 0; i < t.D.size(); i += L)
    for (int l = 0; l < L; ++l) {
      const double a = D[i + l] * mr - zr, b = D[i + l] * mi - zi, q = 1.0 / (a * a + b * b);
      const double ur = a * q, ui = -b * q;  // 1 / (D m - z)
      s1r[l] += wd[i + l] * ur, s1i[l] += wd[i + l] * ui;
      s2r[l] += wd[i + l] * (ur * ur - ui * ui), s2i[l] += wd[i + l] * (2.0 * ur * ui);
      s3r[l] += wb[i + l] * ur, s3i[l] += wb[i + l] * ui;
    }
  Sums s;
  using c = std::complex<double>;
  for (int l = 0; l < L; ++l) s.s1 += c(s1r[l], s1i[l]), s.s2 += c(s2r[l], s2i[l]), s.s3 += c(s3r[l], s3i[l]);
  return s;
}

struct ResolventSums {
  template <int W>
  PLRF_ALWAYS_INLINE static Sums run(const ResolventTerms& t, std::complex<double> m, std::complex<double> z) {
    return resolvent_sums_body<W>(t, m, z);
  }
};

inline Sums resolvent_sums(const ResolventTerms& t, std::complex<double> m, std::complex<double> z) {
  return on_isa<ResolventSums>(isa(), t, m, z);
}

}  // namespace plrf::theory_spectrum
