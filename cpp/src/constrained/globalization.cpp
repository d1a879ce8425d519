// Globalization pieces: the exact augmented Lagrangian merit function, its directional
// derivative along the inner solver's step, and the damped BFGS update (the line search
// and the penalty updates that use them run in Python, where the user's functions are).
#include <cmath>

#include "detail.hpp"

namespace adasolve::constrained {

using namespace detail;

template <class Mat>
double KKTSystem<Mat>::merit_directional(double eta1, double eta2, const Vec* hg) const {
  // Eigen runs a sparse (row-major) matrix-vector product on OpenMP threads once it has
  // 2e4 nonzeros; on a loaded machine the threads spin for ~10 ms per product (measured on
  // Elec with 50 electrons: 87 calls, 0.9 s) against microseconds of work.
  SerialEigen serial(N_ < kSerialSparseBelow);
  Vec gx = gl_;
  if (hg) {
    require(hg->size() == n_, "merit_directional: hg must have length n");
    gx.noalias() += eta2 * (*hg);
  } else {
    require(!opt_.hessp, "merit_directional: a Hessian given by products needs hg = H grad_l");
    gx.noalias() += eta2 * (H_ * gl_);
  }
  Vec gv = c_;
  if (m_ > 0) {
    gx.noalias() += eta1 * (G_.transpose() * c_);
    gv.noalias() += eta2 * (G_ * gl_);
  }
  return gx.dot(z_.head(n_)) + gv.dot(z_.tail(m_));
}

template double KKTSystem<DenseMat>::merit_directional(double, double, const Vec*) const;
template double KKTSystem<SparseMat>::merit_directional(double, double, const Vec*) const;

double merit_value(double f, const Vec& v, const Vec& c, const Vec& grad_l, double eta1,
                   double eta2) {
  require(v.size() == c.size(), "merit_value: v and c must have equal length");
  return f + v.dot(c) + 0.5 * eta1 * c.squaredNorm() + 0.5 * eta2 * grad_l.squaredNorm();
}

double damped_bfgs_update(Eigen::Ref<DenseMat> B, const Vec& s, const Vec& y) {
  const Index n = B.rows();
  require(B.cols() == n && s.size() == n && y.size() == n, "damped_bfgs_update: size mismatch");
  const double ss = s.squaredNorm();
  if (!(ss > 0.0) || !s.allFinite() || !y.allFinite()) return 0.0;
  Vec Bs = B * s;
  const double sBs = s.dot(Bs);
  if (!(sBs > 0.0)) return 0.0;
  const double sy = s.dot(y);
  // Powell's damping keeps B positive definite: r = theta y + (1 - theta) B s.
  double theta = 1.0;
  if (sy < 0.2 * sBs) theta = 0.8 * sBs / (sBs - sy);
  Vec r = theta * y + (1.0 - theta) * Bs;
  const double sr = s.dot(r);
  if (!(sr > 0.0)) return 0.0;
  B.noalias() -= (Bs * Bs.transpose()) / sBs;
  B.noalias() += (r * r.transpose()) / sr;
  return theta;
}

}  // namespace adasolve::constrained
