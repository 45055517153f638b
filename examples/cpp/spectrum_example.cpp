// Builds a small PLRF problem in pure C++ and prints its spectral data.
#include <cstdio>

#include "plrf/problem/spectral_setup.hpp"

int main() {
  plrf::PlrfParams p;
  p.alpha = 1.0;
  p.beta = 0.5;
  p.d = 200;
  p.v = 800;
  p.seed = 42;
  const plrf::SpectralSetup s = plrf::spectral_setup(p);
  s.spectrum.validate();
  std::printf("d=%ld v=%ld  lambda_1=%.6g lambda_d=%.6g  trace=%.6g  P(0)=%.6g  P_inf=%.6g\n", static_cast<long>(p.d),
              static_cast<long>(p.v), s.spectrum.eigenvalues[0], s.spectrum.eigenvalues[p.d - 1], s.spectrum.trace(),
              s.spectrum.risk0(), s.spectrum.p_inf);
  return s.spectrum.p_inf > 0 && s.spectrum.p_inf < s.spectrum.risk0() ? 0 : 1;
}
