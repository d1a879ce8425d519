// The C++ API stands alone: one call per family through the public headers only (no Python),
// each checked against an independent answer computed here with Eigen's dense solvers.
// Built with -DADASOLVE_BUILD_TESTS=ON and run by CTest; exits non-zero on the first failure.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <random>
#include <vector>

#include <Eigen/Dense>

#include "adasolve/bcd.hpp"
#include "adasolve/constrained.hpp"
#include "adasolve/dag.hpp"
#include "adasolve/mfac.hpp"
#include "adasolve/sor.hpp"

namespace {

int failures = 0;

void check(bool ok, const char* what, double value) {
  std::printf("%-4s %-60s %.3e\n", ok ? "ok" : "FAIL", what, value);
  if (!ok) ++failures;
}

Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd M(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j)
    for (Eigen::Index i = 0; i < rows; ++i) M(i, j) = normal(gen);
  return M;
}

// SOR on the 2-D 5-point Poisson matrix (CSR, int32 indices) against x_true with b = A x_true.
void test_sor() {
  using adasolve::Index;
  const int k = 12, n = k * k;
  std::vector<std::int32_t> indptr{0}, indices;
  std::vector<double> data;
  Eigen::MatrixXd dense = Eigen::MatrixXd::Zero(n, n);
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      const int row = i * k + j;
      auto put = [&](int col, double v) {
        indices.push_back(col);
        data.push_back(v);
        dense(row, col) = v;
      };
      if (i > 0) put(row - k, -1.0);
      if (j > 0) put(row - 1, -1.0);
      put(row, 4.0);
      if (j < k - 1) put(row + 1, -1.0);
      if (i < k - 1) put(row + k, -1.0);
      indptr.push_back(static_cast<std::int32_t>(indices.size()));
    }
  adasolve::CsrView<double, std::int32_t> A;
  A.n_rows = n;
  A.n_cols = n;
  A.indptr = indptr.data();
  A.indices = indices.data();
  A.data = data.data();

  Eigen::VectorXd x_true(n);
  for (int r = 0; r < n; ++r) x_true[r] = std::sin(0.3 * r) + 1.0;
  const Eigen::VectorXd b = dense * x_true;
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  adasolve::sor::SolveOptions opt;
  opt.omega = 1.6;
  opt.rtol = 1e-10;
  opt.maxiter = 5000;
  const auto rep = adasolve::sor::solve<double, std::int32_t>(A, b.data(), x.data(), Index(1), opt,
                                                              nullptr);
  check(rep.info == 0, "sor::solve converges on 2-D Poisson (info == 0)", double(rep.nit));
  const double err = (x - x_true).norm() / x_true.norm();
  check(err < 1e-8, "sor::solve matches the known solution", err);
}

// One KKT step of the sketched Newton method with the exact inner solve on an equality-
// constrained quadratic: min x0^2 + 2 x1^2 s.t. x0 + x1 = 1, from x = 0; the Newton step of a
// quadratic lands on the minimizer (2/3, 1/3) with multiplier -4/3.
void test_constrained() {
  namespace c = adasolve::constrained;
  c::DenseMat H(2, 2), G(1, 2);
  H << 2.0, 0.0, 0.0, 4.0;
  G << 1.0, 1.0;
  c::Vec grad_l = c::Vec::Zero(2);  // grad f(0) + G^T v with v = 0
  c::Vec cval(1);
  cval << -1.0;  // c(0) = 0 + 0 - 1
  c::KKTOptions opt;
  opt.sketch = c::Sketch::Exact;
  c::KKTSystem<c::DenseMat> kkt(H, G, grad_l, cval, opt);
  kkt.solve(1e-12, 100);
  const c::Vec dx = kkt.dx();
  const double err = std::hypot(dx[0] - 2.0 / 3.0, dx[1] - 1.0 / 3.0);
  check(err < 1e-10, "constrained::KKTSystem step reaches the QP minimizer", err);
  const double verr = std::abs(kkt.dv()[0] + 4.0 / 3.0);
  check(verr < 1e-10, "constrained::KKTSystem multiplier", verr);
}

// Greedy BCD on unpenalized least squares against the normal-equations solution.
void test_bcd() {
  namespace bcd = adasolve::bcd;
  const Eigen::Index n = 40, p = 6;
  bcd::ProblemData P;
  P.loss = bcd::Loss::LeastSquares;
  P.n_samples = n;
  P.n_features = p;
  P.Xd = random_matrix(n, p, 1);
  P.y = random_matrix(n, 1, 2).col(0);
  P.l1 = Eigen::VectorXd::Zero(p);
  P.l2 = Eigen::VectorXd::Zero(p);
  const Eigen::MatrixXd X = P.Xd;
  const Eigen::VectorXd y = P.y;
  bcd::Options opt;
  opt.block_size = 2;
  opt.tol = 1e-10;
  bcd::Solver solver(std::move(P), opt);
  solver.run(100000);
  check(solver.converged(), "bcd::Solver converges on least squares", solver.optimality());
  const Eigen::VectorXd ref = (X.transpose() * X).ldlt().solve(X.transpose() * y);
  const double err = (solver.x() - ref).norm() / ref.norm();
  check(err < 1e-6, "bcd::Solver matches the normal equations", err);
}

// NOTEARS inner fit for a given order: each node regressed on its predecessors by least
// squares on centred data; compare with Eigen's QR least squares, column by column.
void test_dag() {
  namespace dag = adasolve::dag;
  const Eigen::Index n = 200, d = 4;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> X = random_matrix(n, d, 3);
  X.col(1) += 2.0 * X.col(0);
  X.col(3) += -1.5 * X.col(1) + 0.5 * X.col(2);
  std::vector<adasolve::Index> order(d);
  std::iota(order.begin(), order.end(), adasolve::Index(0));
  dag::Mat W;
  dag::fit_order(X.data(), n, d, order, dag::Options{}, W);
  const Eigen::MatrixXd Xc = X.rowwise() - X.colwise().mean();
  double err = 0.0;
  for (Eigen::Index j = 1; j < d; ++j) {
    const Eigen::VectorXd w = Xc.leftCols(j).colPivHouseholderQr().solve(Xc.col(j));
    err = std::max(err, (W.col(j).head(j) - w).cwiseAbs().maxCoeff());
  }
  check(err < 1e-8, "dag::fit_order matches least squares on each node's parents", err);
  check(std::abs(W(0, 1) - 2.0) < 0.2, "dag::fit_order recovers the edge 0 -> 1 (weight 2)",
        W(0, 1));
}

// M-FAC: F^{-1} v with F = damp I + G^T G / m, checked by multiplying back with F.
void test_mfac() {
  const Eigen::Index m = 8, d = 50;
  const double damp = 0.1;
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> G = random_matrix(m, d, 4);
  adasolve::mfac::StaticIHVP<double> H(G.data(), m, d, d, damp, 0);
  const Eigen::VectorXd v = random_matrix(d, 1, 5).col(0);
  Eigen::VectorXd x(d);
  H.ihvp(v.data(), 1, x.data());
  const Eigen::MatrixXd F =
      damp * Eigen::MatrixXd::Identity(d, d) + G.transpose() * G / static_cast<double>(m);
  const double err = (F * x - v).norm() / v.norm();
  check(err < 1e-10, "mfac::StaticIHVP::ihvp inverts damp I + G^T G / m", err);
}

}  // namespace

int main() {
  test_sor();
  test_constrained();
  test_bcd();
  test_dag();
  test_mfac();
  if (failures) std::printf("%d check(s) failed\n", failures);
  return failures ? 1 : 0;
}
