// Scalar helpers shared by the families (proximal maps and stable logistic functions).
#pragma once

#include <cmath>

namespace adasolve {

// Proximal map of t*|.|: sign(x) max(|x| - t, 0).
inline double soft_threshold(double x, double t) {
  return x > t ? x - t : (x < -t ? x + t : 0.0);
}

// 1 / (1 + exp(-x)) without overflow for large |x|.
inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// log(1 + exp(x)) without overflow for large |x|.
inline double softplus(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

}  // namespace adasolve
