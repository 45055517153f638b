// Small hand-made spectra for the C++ tests: lambda_j = (j + 1)^-a, rho_j = (j + 1)^-b, j < d.
#pragma once
#include <cmath>

#include "plrf/spectrum/spectrum.hpp"

namespace plrf::testing {

inline Spectrum power_law_spectrum(int d, double a, double b, double p_inf) {
  Spectrum spec;
  spec.eigenvalues.resize(d);
  spec.rho.resize(d);
  for (int j = 0; j < d; ++j) spec.eigenvalues[j] = std::pow(j + 1.0, -a), spec.rho[j] = std::pow(j + 1.0, -b);
  spec.p_inf = p_inf;
  return spec;
}

}  // namespace plrf::testing
