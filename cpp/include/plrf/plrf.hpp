// Umbrella header of the plrf C++ core.
#pragma once
#include "plrf/runtime/control.hpp"
#include "plrf/runtime/divergence.hpp"
#include "plrf/runtime/parallel.hpp"
#include "plrf/optim/gen_momentum.hpp"
#include "plrf/optim/schedule.hpp"
#include "plrf/problem/plrf_problem.hpp"
#include "plrf/rng/normal.hpp"
#include "plrf/rng/philox.hpp"
#include "plrf/spectrum/spectrum.hpp"
