// Numbers in error messages: the shortest decimal that reads back as the same double ("0.1",
// "1e-07", "nan"), never std::to_string's fixed six decimals ("0.000000" for 1e-7).
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace plrf {

inline std::string format_number(double x) {
  if (std::isnan(x)) return "nan";  // printf's "-nan" for a NaN with its sign bit set says nothing more
  char buf[32];
  for (int digits = 15; digits <= 17; ++digits) {  // 17 significant digits always round-trip
    std::snprintf(buf, sizeof buf, "%.*g", digits, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  return buf;
}

}  // namespace plrf
