// One definition of divergence for every engine: the risk is non-finite, or has grown past
// `factor` times the initial risk. Engines stop the affected run and record the step.
#pragma once
#include <cmath>

namespace plrf {

struct DivergenceGuard {
  double limit;  // absolute risk above which a run is declared divergent

  explicit DivergenceGuard(double risk0, double factor = 1e6) : limit(factor * risk0) {}
  bool diverged(double risk) const { return !std::isfinite(risk) || risk > limit; }
};

}  // namespace plrf
