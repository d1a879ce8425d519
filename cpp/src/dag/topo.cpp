#include "adasolve/dag.hpp"
#include "adasolve/common/scalar.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include <Eigen/Cholesky>

#ifdef ADASOLVE_HAVE_OPENMP
#include <omp.h>
#endif

namespace adasolve::dag {

namespace {

// Rotate columns (c0, c1) of B over rows [r0, r1) so that (c, s) maps (x, y) -> (r, 0).
inline void rotate_cols(double* col0, double* col1, Index r0, Index r1, double c, double s) {
  for (Index i = r0; i < r1; ++i) {
    const double u = col0[i], v = col1[i];
    col0[i] = c * u + s * v;
    col1[i] = c * v - s * u;
  }
}

// Givens pair zeroing y in (x, y); returns false when y is already zero.
inline bool givens(double x, double y, double& c, double& s) {
  if (y == 0.0) return false;
  const double r = std::hypot(x, y);
  c = x / r;
  s = y / r;
  return true;
}

// Re-triangularize a block after the swap of its first and last rows.
//
// B points at column-major storage with leading dimension ld; the block's columns are
// 0..m-1 and the rows to rotate are [row_begin, row_end) in B's own row coordinates, where the
// block's rows are row_begin..row_begin+m-1 (already permuted: the first row holds the old last
// row, the last row the old first row), followed by any rows below (rotated along).
//
// Sweep 1 folds the (dense) first row into its diagonal from the right, which leaves a
// superdiagonal in the middle rows; sweep 2 chases it out. 2(m-1) rotations in all.
void retriangularize(double* B, Index ld, Index row_begin, Index row_end, Index m) {
  double c, s;
  const Index r0 = row_begin;
  for (Index j = m - 2; j >= 0; --j) {
    double* cj = B + j * ld;
    double* cj1 = B + (j + 1) * ld;
    if (!givens(cj[r0], cj1[r0], c, s)) continue;
    // Rows that can hold a nonzero in columns j or j+1: the first row and rows >= j.
    if (j > 0) {
      const double u = cj[r0], v = cj1[r0];
      cj[r0] = c * u + s * v;
      cj1[r0] = 0.0;
      rotate_cols(cj, cj1, r0 + j, row_end, c, s);
    } else {
      rotate_cols(cj, cj1, r0, row_end, c, s);
      cj1[r0] = 0.0;
    }
  }
  for (Index i = 1; i + 1 < m; ++i) {
    double* ci = B + i * ld;
    double* ci1 = B + (i + 1) * ld;
    if (!givens(ci[r0 + i], ci1[r0 + i], c, s)) continue;
    rotate_cols(ci, ci1, r0 + i, row_end, c, s);
    ci1[r0 + i] = 0.0;
  }
}

}  // namespace

void default_sizes(Index d, Index& size_small, Index& size_large, Index& n_large_search) {
  const double dd = static_cast<double>(d);
  const Index npairs = d * (d - 1) / 2;
  const Index a = static_cast<Index>(1.5 * dd);
  const Index b = d > 1 ? static_cast<Index>(std::sqrt(dd) * (dd - 1) * std::log10(dd)) : 0;
  size_small = std::min(a, std::min(b, npairs));
  size_large = std::max(a, std::min(b, npairs));
  n_large_search = std::min<Index>(d / 10, 1);
}

Solver::Solver(const double* X, Index n, Index d, const std::vector<Index>& order,
               const Options& opt)
    : opt_(opt), n_(n), d_(d) {
  require(n >= 1, "topo_swap: X must have at least one row");
  require(d >= 1, "topo_swap: X must have at least one column");
  Eigen::Map<const RowMatrix<double>> Xm(X, n, d);
  if (opt_.model == Model::Additive) {
    require(opt_.loss == Loss::L2 && opt_.l1 == 0.0,
            "topo_swap: model 'additive' needs loss 'l2' and l1 = 0");
    require(opt_.n_knots >= 0, "topo_swap: n_knots must be non-negative");
    m_ = 1 + opt_.n_knots;
    // Feature blocks [x, relu(x - t_1), ..., relu(x - t_K)], centred; the knot features are
    // scaled to unit variance (the fit does not depend on it, the conditioning does). Knots at
    // the quantiles k / (K + 1); a repeated knot (discrete data) gives a zero column.
    Mat Phi(n, d * m_);
    std::vector<double> sorted(n);
    for (Index j = 0; j < d; ++j) {
      const auto x = Xm.col(j);
      const double mu = x.mean();
      for (Index i = 0; i < n; ++i) Phi(i, j * m_) = x[i] - mu;
      for (Index i = 0; i < n; ++i) sorted[i] = x[i];
      std::sort(sorted.begin(), sorted.end());
      double prev = -std::numeric_limits<double>::infinity();
      for (Index k = 1; k < m_; ++k) {
        const Index at = std::min<Index>(n - 1, (k * n) / m_);
        const double t = sorted[at];
        auto col = Phi.col(j * m_ + k);
        if (!(t > prev) || !(t < sorted[n - 1])) {
          col.setZero();
          continue;
        }
        prev = t;
        for (Index i = 0; i < n; ++i) col[i] = std::max(0.0, x[i] - t);
        col.array() -= col.mean();
        const double nrm = col.norm() / std::sqrt(static_cast<double>(n));
        if (nrm > 0.0) col /= nrm;
      }
    }
    G_ = Mat::Zero(d * m_, d * m_);
    G_.selfadjointView<Eigen::Lower>().rankUpdate(Phi.transpose(), 1.0 / static_cast<double>(n));
    G_.triangularView<Eigen::StrictlyUpper>() = G_.transpose();
    double scale = 0.0;
    for (Index j = 0; j < d; ++j) scale += G_(j * m_, j * m_) / static_cast<double>(d);
    // the knot columns can be nearly collinear; a relative 1e-10 keeps every factor defined
    ridge_ = opt_.l2 + 1e-10 * std::max(scale, std::numeric_limits<double>::min());
  } else if (opt_.loss == Loss::L2) {
    // Centre once, form the Gram matrix once; X is not touched again.
    const Eigen::RowVectorXd mu = Xm.colwise().mean();
    Mat Xc = Xm.rowwise() - mu;
    G_ = Mat::Zero(d, d);
    G_.selfadjointView<Eigen::Lower>().rankUpdate(Xc.transpose(), 1.0 / static_cast<double>(n));
    G_.triangularView<Eigen::StrictlyUpper>() = G_.transpose();
    // A tiny ridge keeps the Cholesky path defined for collinear data (n < d, duplicates);
    // at 1e-12 of the mean variance it changes no fit at a visible digit.
    const double scale = std::max(G_.diagonal().mean(), std::numeric_limits<double>::min());
    ridge_ = opt_.l2 + 1e-12 * scale;
  } else {
    X_ = Xm;
  }
  setup(order);
}

Solver::Solver(const Mat& cov, Index n, const std::vector<Index>& order, const Options& opt)
    : opt_(opt), n_(n), d_(cov.rows()) {
  require(n >= 1, "topo_swap: n_samples must be positive");
  require(cov.rows() >= 1 && cov.rows() == cov.cols(), "topo_swap: gram must be square");
  require(opt_.loss == Loss::L2 && opt_.model == Model::Linear,
          "topo_swap: a Gram matrix serves loss 'l2' with the linear model only");
  G_ = 0.5 * (cov + cov.transpose());
  const double scale = std::max(G_.diagonal().mean(), std::numeric_limits<double>::min());
  ridge_ = opt_.l2 + 1e-12 * scale;
  setup(order);
}

void Solver::setup(const std::vector<Index>& order) {
  const Index d = d_;
  require(static_cast<Index>(order.size()) == d, "topo_swap: order must have d entries");
  require(opt_.l1 >= 0.0 && opt_.l2 >= 0.0, "topo_swap: l1 and l2 must be non-negative");
  pos_.assign(d, -1);
  for (Index k = 0; k < d; ++k) {
    const Index v = order[k];
    require(v >= 0 && v < d && pos_[v] < 0, "topo_swap: order must be a permutation of 0..d-1");
    pos_[v] = k;
  }
  order_ = order;

  before_.assign(d * d, 0);
  excluded_.assign(d * d, 0);
  req_.assign(d * d, 0);
  auto check_edge = [d](const Edge& e, const char* what) {
    require(e.first >= 0 && e.first < d && e.second >= 0 && e.second < d && e.first != e.second,
            std::string("topo_swap: ") + what + " has an invalid edge");
  };
  for (const Edge& e : opt_.precede) {
    check_edge(e, "precede");
    before_[e.first * d + e.second] = 1;
  }
  for (const Edge& e : opt_.required) {
    check_edge(e, "required");
    before_[e.first * d + e.second] = 1;
    req_[e.first * d + e.second] = 1;
  }
  for (Index u = 0; u < d; ++u)
    for (Index v = 0; v < d; ++v)
      if (before_[u * d + v]) {
        has_order_ = true;
        require(pos_[u] < pos_[v], "topo_swap: the initial order breaks a required edge or tier");
      }
  for (const Edge& e : opt_.forbidden) {
    check_edge(e, "forbidden");
    require(!req_[e.first * d + e.second], "topo_swap: an edge is both required and forbidden");
    // an edge against a precedence can never occur: no need to leave the Cholesky path for it
    if (!before_[e.second * d + e.first]) {
      excluded_[e.first * d + e.second] = 1;
      has_excluded_ = true;
    }
  }

  const Index npairs = d * (d - 1) / 2;
  Index ss, sl, nl;
  default_sizes(d, ss, sl, nl);
  size_small_ = opt_.size_small >= 0 ? opt_.size_small : ss;
  size_large_ = opt_.size_large >= 0 ? opt_.size_large : sl;
  n_large_search_ = opt_.n_large_search >= 0 ? opt_.n_large_search : nl;
  size_small_ = std::min(std::max<Index>(size_small_, 1), std::max<Index>(npairs, 1));
  size_large_ = std::min(std::max(size_large_, size_small_), std::max<Index>(npairs, 1));

  full_fit();
  history_.push_back(score_);
}

bool Solver::feasible_swap(Index a, Index b) const {
  if (!has_order_) return true;
  // Only the pairs whose relative order changes can break a precedence: the node moving up
  // (u, from b to a) against every node in a..b-1, the node moving down (v, from a to b)
  // against every node in a+1..b.
  const Index u = order_[b], v = order_[a];
  for (Index k = a; k < b; ++k)
    if (before_[order_[k] * d_ + u]) return false;
  for (Index k = a + 1; k <= b; ++k)
    if (before_[v * d_ + order_[k]]) return false;
  return true;
}

void Solver::full_fit() {
  W_ = Mat::Zero(d_, d_);
  node_loss_ = Vec::Zero(d_);
  if (smooth()) {
    Mat P(d_, d_);
    for (Index q = 0; q < d_; ++q)
      for (Index p = 0; p < d_; ++p) P(p, q) = G_(order_[p], order_[q]);
    P.diagonal().array() += ridge_;
    Eigen::LLT<Mat> llt(P);
    L_ = Mat::Zero(d_, d_);
    L_.triangularView<Eigen::Lower>() = llt.matrixL();
    weights_from_factor();
    return;
  }
  if (blocks()) {
    factor_blocks();
    weights_additive();
    return;
  }
  // node by node (the same fits as refresh_columns(0, d - 1)) so that Ctrl-C is polled during
  // the initial fit, which for the logistic loss is d Newton solves over all n rows
  InterruptCheck interrupt(1.0);
  for (Index k = 0; k < d_; ++k) {
    interrupt();
    refresh_columns(k, k);
  }
}

void Solver::factor_blocks() {
  const Index m = m_, D = d_ * m_;
  Mat P(D, D);
  for (Index q = 0; q < d_; ++q)
    for (Index p = 0; p < d_; ++p) P.block(p * m, q * m, m, m) = G_.block(order_[p] * m, order_[q] * m, m, m);
  P.diagonal().array() += ridge_;
  Eigen::LLT<Mat> llt(P);
  L_ = Mat::Zero(D, D);
  L_.triangularView<Eigen::Lower>() = llt.matrixL();
  for (Index k = 0; k < d_; ++k) {
    const double l = L_(k * m, k * m);
    node_loss_[order_[k]] = 0.5 * (l * l - ridge_);
  }
  score_ = node_loss_.sum();
}

void Solver::weights_additive() {
  // The ridge regression of the target column c (first of block q) on all columns A before
  // block q: P_AA = L_AA L_AA^T and P_Ac = L_AA L_cA^T, so beta = L_AA^{-T} L_cA^T, one
  // triangular solve per node. The strength of edge p -> node is the standard deviation of
  // its fitted component, sqrt(beta_p^T G_pp beta_p).
  const Index m = m_;
  W_.setZero();
  for (Index q = 1; q < d_; ++q) {
    const Index na = q * m;
    Vec beta = L_.row(q * m).head(na).transpose();
    L_.topLeftCorner(na, na).triangularView<Eigen::Lower>().transpose().solveInPlace(beta);
    const Index node = order_[q];
    for (Index p = 0; p < q; ++p) {
      const auto bp = beta.segment(p * m, m);
      const Index par = order_[p];
      const double v = bp.dot(G_.block(par * m, par * m, m, m) * bp);
      W_(par, node) = std::sqrt(std::max(v, 0.0));
    }
  }
}

double Solver::node_fit_additive(Index node, const std::vector<Index>& preds, Vec& strength) const {
  const Index m = m_, k = static_cast<Index>(preds.size());
  strength = Vec::Zero(k);
  const Index c = node * m;
  const double gjj = G_(c, c);
  std::vector<Index> cols, owner;
  for (Index t = 0; t < k; ++t) {
    if (excluded_[preds[t] * d_ + node]) continue;
    for (Index r = 0; r < m; ++r) {
      cols.push_back(preds[t] * m + r);
      owner.push_back(t);
    }
  }
  const Index q = static_cast<Index>(cols.size());
  if (q == 0) return 0.5 * gjj;
  Mat P(q, q);
  Vec g(q);
  for (Index j = 0; j < q; ++j) {
    g[j] = G_(cols[j], c);
    for (Index i = 0; i < q; ++i) P(i, j) = G_(cols[i], cols[j]);
  }
  Mat Pr = P;  // P itself (no ridge) serves the strengths
  Pr.diagonal().array() += ridge_;
  const Vec beta = Eigen::LLT<Mat>(Pr).solve(g);
  for (Index j = 0; j < q; j += m) {
    const auto bp = beta.segment(j, m);
    strength[owner[j]] = std::sqrt(std::max(0.0, bp.dot(P.block(j, j, m, m) * bp)));
  }
  return 0.5 * (gjj - g.dot(beta));
}

double Solver::eval_swap_block(Index a, Index b, Mat& work) const {
  // Rows of blocks a..b of L_ (columns from block a on) span the blocks' covariance given the
  // blocks before a; permuting them (b first, a last) and refactoring gives the new factor.
  const Index m = m_, nb = b - a + 1, sz = nb * m, c0 = a * m;
  Mat R(sz, sz);
  for (Index i = 0; i < nb; ++i) {
    const Index src = i == 0 ? b : (i == nb - 1 ? a : a + i);
    R.middleRows(i * m, m) = L_.block(src * m, c0, m, sz);
  }
  if (work.rows() != sz) work.resize(sz, sz);
  work.setZero();
  work.selfadjointView<Eigen::Lower>().rankUpdate(R);
  Eigen::LLT<Mat, Eigen::Lower> llt(work);
  const Mat& Lc = llt.matrixLLT();
  double delta = 0.0;
  for (Index i = 0; i < nb; ++i) {
    const double l = Lc(i * m, i * m);
    delta += 0.5 * (l * l - ridge_) - node_loss_[order_[a + i]];
  }
  return score_ + delta;
}

void Solver::weights_from_factor() {
  // With G_perm = Lt D Lt^T (Lt unit lower), the least-squares SEM in position coordinates is
  // G_perm = (I - W)^{-T} D (I - W)^{-1}, so W = I - Lt^{-T}: one triangular inverse for all
  // nodes instead of one back-substitution per node and swap.
  Mat Linv = Mat::Identity(d_, d_);
  Mat Lt = L_;
  for (Index k = 0; k < d_; ++k) Lt.col(k) /= L_(k, k);
  Lt.triangularView<Eigen::UnitLower>().solveInPlace(Linv);
  W_.setZero();
  for (Index q = 0; q < d_; ++q) {
    const Index j = order_[q];
    for (Index p = 0; p < q; ++p) W_(order_[p], j) = -Linv(q, p);
    node_loss_[j] = 0.5 * (L_(q, q) * L_(q, q) - ridge_);
  }
  score_ = node_loss_.sum();
}

double Solver::node_fit(Index node, const std::vector<Index>& preds_all, const Vec* warm_all,
                        Vec& w_all) const {
  if (m_ > 0) return node_fit_additive(node, preds_all, w_all);
  if (!has_excluded_) return node_fit_linear(node, preds_all, warm_all, w_all);
  // forbidden edges: fit on the allowed predecessors only, zeros for the others
  std::vector<Index> keep, preds;
  for (Index t = 0; t < static_cast<Index>(preds_all.size()); ++t)
    if (!excluded_[preds_all[t] * d_ + node]) {
      keep.push_back(t);
      preds.push_back(preds_all[t]);
    }
  Vec warm(static_cast<Index>(keep.size())), w;
  if (warm_all)
    for (Index t = 0; t < static_cast<Index>(keep.size()); ++t) warm[t] = (*warm_all)[keep[t]];
  const double obj = node_fit_linear(node, preds, warm_all ? &warm : nullptr, w);
  w_all = Vec::Zero(static_cast<Index>(preds_all.size()));
  for (Index t = 0; t < static_cast<Index>(keep.size()); ++t) w_all[keep[t]] = w[t];
  return obj;
}

double Solver::node_fit_linear(Index node, const std::vector<Index>& preds, const Vec* warm,
                               Vec& w) const {
  const Index k = static_cast<Index>(preds.size());
  w = Vec::Zero(k);
  // L1 weight of each coefficient: none on required edges, which thus stay in the support
  Vec pen = Vec::Constant(k, opt_.l1);
  if (opt_.l1 > 0.0)
    for (Index t = 0; t < k; ++t)
      if (req_[preds[t] * d_ + node]) pen[t] = 0.0;
  if (opt_.loss == Loss::L2) {
    const double gjj = G_(node, node);
    if (k == 0) return 0.5 * gjj;
    Vec g(k);
    for (Index t = 0; t < k; ++t) g[t] = G_(preds[t], node);
    if (opt_.l1 == 0.0) {
      Mat P(k, k);
      for (Index b = 0; b < k; ++b)
        for (Index a = 0; a < k; ++a) P(a, b) = G_(preds[a], preds[b]);
      P.diagonal().array() += ridge_;
      w = Eigen::LLT<Mat>(P).solve(g);
      return 0.5 * (gjj - g.dot(w));
    }
    // Lasso (+ ridge) on the Gram matrix by cyclic coordinate descent; q = G_PP w.
    if (warm) w = *warm;
    Vec q = Vec::Zero(k);
    for (Index t = 0; t < k; ++t)
      if (w[t] != 0.0)
        for (Index r = 0; r < k; ++r) q[r] += G_(preds[r], preds[t]) * w[t];
    const double tol = opt_.cd_tol * std::sqrt(std::max(gjj, 1e-300));
    for (Index sweep = 0; sweep < opt_.cd_max_iter; ++sweep) {
      double maxd = 0.0;
      for (Index t = 0; t < k; ++t) {
        const Index pt = preds[t];
        const double gtt = G_(pt, pt);
        if (gtt <= 0.0) { w[t] = 0.0; continue; }
        const double u = soft_threshold(g[t] - q[t] + gtt * w[t], pen[t]) / (gtt + opt_.l2);
        const double delta = u - w[t];
        if (delta != 0.0) {
          const double* col = G_.col(pt).data();
          for (Index r = 0; r < k; ++r) q[r] += col[preds[r]] * delta;
          w[t] = u;
          maxd = std::max(maxd, std::abs(delta) * std::sqrt(gtt));
        }
      }
      if (maxd <= tol) break;
    }
    return 0.5 * (gjj - 2.0 * g.dot(w) + w.dot(q)) + pen.dot(w.cwiseAbs()) +
           0.5 * opt_.l2 * w.squaredNorm();
  }

  // Logistic loss: proximal Newton, each quadratic model solved by coordinate descent.
  const double inv_n = 1.0 / static_cast<double>(n_);
  const auto y = X_.col(node);
  auto objective = [&](const Vec& eta, const Vec& ww) {
    double s = 0.0;
    for (Index i = 0; i < n_; ++i) s += softplus(eta[i]) - y[i] * eta[i];
    return s * inv_n + pen.dot(ww.cwiseAbs()) + 0.5 * opt_.l2 * ww.squaredNorm();
  };
  Vec eta = Vec::Zero(n_);
  if (k == 0) return objective(eta, w);
  if (warm) {
    w = *warm;
    for (Index t = 0; t < k; ++t)
      if (w[t] != 0.0) eta += w[t] * X_.col(preds[t]);
  }
  double obj = objective(eta, w);
  Vec v(n_), gres(n_), r(n_), dlt(k), hd(k);
  for (Index newton = 0; newton < 100; ++newton) {
    for (Index i = 0; i < n_; ++i) {
      const double p = sigmoid(eta[i]);
      v[i] = std::max(p * (1.0 - p), 1e-8);
      gres[i] = p - y[i];
    }
    for (Index t = 0; t < k; ++t) hd[t] = inv_n * X_.col(preds[t]).cwiseAbs2().dot(v);
    r.setZero();
    dlt.setZero();
    for (Index sweep = 0; sweep < opt_.cd_max_iter; ++sweep) {
      double maxd = 0.0;
      for (Index t = 0; t < k; ++t) {
        if (hd[t] <= 0.0) continue;
        const auto xt = X_.col(preds[t]);
        const double grad = inv_n * (xt.dot(gres) + xt.dot(v.cwiseProduct(r)));
        const double uold = w[t] + dlt[t];
        const double u = soft_threshold(hd[t] * uold - grad, pen[t]) / (hd[t] + opt_.l2);
        const double delta = u - uold;
        if (delta != 0.0) {
          dlt[t] += delta;
          r += delta * xt;
          maxd = std::max(maxd, std::abs(delta) * std::sqrt(hd[t]));
        }
      }
      if (maxd <= opt_.cd_tol) break;
    }
    double step = 1.0, new_obj = obj;
    Vec wn, en;
    for (int ls = 0; ls < 40; ++ls) {
      wn = w + step * dlt;
      en = eta + step * r;
      new_obj = objective(en, wn);
      if (new_obj <= obj) break;
      step *= 0.5;
    }
    if (!(new_obj <= obj)) break;
    const double dec = obj - new_obj;
    w = wn;
    eta = en;
    obj = new_obj;
    if (dec <= 1e-12 * std::max(1.0, std::abs(obj))) break;
  }
  return obj;
}

void Solver::refresh_columns(Index a, Index b) {
  {  // general path (L1 or logistic): refit the nodes at positions a..b
    std::vector<Index> preds;
    preds.reserve(d_);
    for (Index t = 0; t < a; ++t) preds.push_back(order_[t]);
    for (Index k = a; k <= b; ++k) {
      const Index node = order_[k];
      Vec warm(k), w;
      for (Index t = 0; t < k; ++t) warm[t] = W_(preds[t], node);
      node_loss_[node] = node_fit(node, preds, &warm, w);
      W_.col(node).setZero();
      for (Index t = 0; t < k; ++t) W_(preds[t], node) = w[t];
      preds.push_back(node);
    }
  }
  score_ = node_loss_.sum();
}

double Solver::eval_swap_chol(Index a, Index b, Mat& work) const {
  const Index m = b - a + 1;
  if (work.rows() < m || work.cols() < m) work.resize(m, m);
  const Index ld = work.rows();
  double* B = work.data();
  for (Index c = 0; c < m; ++c) {
    double* col = B + c * ld;
    col[0] = L_(b, a + c);
    for (Index i = 1; i + 1 < m; ++i) col[i] = L_(a + i, a + c);
    col[m - 1] = L_(a, a + c);
  }
  retriangularize(B, ld, 0, m, m);
  double delta = 0.0;
  for (Index i = 0; i < m; ++i) {
    const double diag = B[i * ld + i];
    delta += 0.5 * (diag * diag - ridge_) - node_loss_[order_[a + i]];
  }
  return score_ + delta;
}

double Solver::eval_swap_refit(Index a, Index b) const {
  std::vector<Index> preds(order_.begin(), order_.begin() + a);
  std::vector<Index> neworder(order_);
  std::swap(neworder[a], neworder[b]);
  double delta = 0.0;
  Vec w;
  for (Index k = a; k <= b; ++k) {
    const Index node = neworder[k];
    Vec warm(k);
    for (Index t = 0; t < k; ++t) warm[t] = W_(preds[t], node);
    delta += node_fit(node, preds, &warm, w) - node_loss_[node];
    preds.push_back(node);
  }
  return score_ + delta;
}

double Solver::scratch_score_after_swap(Index a, Index b) const {
  std::vector<Index> preds(order_.begin(), order_.begin() + a);
  std::vector<Index> neworder(order_);
  std::swap(neworder[a], neworder[b]);
  double s = 0.0;
  for (Index k = 0; k < a; ++k) s += node_loss_[order_[k]];
  for (Index k = b + 1; k < d_; ++k) s += node_loss_[order_[k]];
  Vec w;
  for (Index k = a; k <= b; ++k) {
    s += node_fit(neworder[k], preds, nullptr, w);
    preds.push_back(neworder[k]);
  }
  return s;
}

void Solver::apply_swap(Index a, Index b) {
  if (smooth()) {
    L_.row(a).swap(L_.row(b));
    const Index m = b - a + 1;
    // Columns a..b of rows a..d-1; L_ is column-major with leading dimension d_.
    retriangularize(L_.data() + a * d_, d_, a, d_, m);
  }
  std::swap(order_[a], order_[b]);
  pos_[order_[a]] = a;
  pos_[order_[b]] = b;
  if (blocks()) {
    factor_blocks();  // O((d m)^3 / 3): small next to scoring the candidates
  } else if (smooth()) {
    // W is rebuilt once per outer iteration (weights_from_factor); losses now.
    for (Index k = a; k <= b; ++k) node_loss_[order_[k]] = 0.5 * (L_(k, k) * L_(k, k) - ridge_);
    score_ = node_loss_.sum();
  } else {
    refresh_columns(a, b);
  }
  ++n_swaps_;
}

void Solver::check_state() {
  // Refit everything from scratch (fresh Cholesky per node) and compare the node losses.
  std::vector<Index> preds;
  preds.reserve(d_);
  Vec w;
  double diff = 0.0;
  const double scale = std::max(1.0, std::abs(score_));
  for (Index k = 0; k < d_; ++k) {
    const Index node = order_[k];
    const double l = node_fit(node, preds, nullptr, w);
    diff = std::max(diff, std::abs(l - node_loss_[node]) / scale);
    preds.push_back(node);
  }
  check_max_diff_ = std::max(check_max_diff_, diff);
}

Status Solver::step() {
  if (d_ < 2) return Status::Converged;
  // Gradient of h(W) = -log det(I - |W|): (I - |W|)^{-T}. In position coordinates I - |W| is
  // unit upper triangular, so its inverse is one triangular solve (d^3/3 flops).
  Mat U = Mat::Zero(d_, d_);
  for (Index q = 0; q < d_; ++q) {
    const Index j = order_[q];
    for (Index p = 0; p < q; ++p) U(p, q) = -std::abs(W_(order_[p], j));
    U(q, q) = 1.0;
  }
  Mat Uinv = Mat::Identity(d_, d_);
  U.triangularView<Eigen::UnitUpper>().solveInPlace(Uinv);

  // Candidate (p, q), p < q: the node at q may become a parent of the node at p without a
  // cycle when (grad h)_{order[q], order[p]} = Uinv(p, q) is small.
  // Swaps that would break a required edge or a tier are never candidates.
  const Index npairs = d_ * (d_ - 1) / 2;
  std::vector<double> vals;
  std::vector<std::pair<Index, Index>> pairs;
  vals.reserve(npairs);
  pairs.reserve(npairs);
  for (Index q = 1; q < d_; ++q)
    for (Index p = 0; p < q; ++p)
      if (feasible_swap(p, q)) {
        vals.push_back(Uinv(p, q));
        pairs.emplace_back(p, q);
      }
  const Index nfeas = static_cast<Index>(vals.size());
  if (nfeas == 0) {
    ++n_iter_;
    return Status::Converged;
  }
  const Index ss = std::min(size_small_, nfeas), sl = std::min(size_large_, nfeas);
  std::vector<double> sorted = vals;
  std::nth_element(sorted.begin(), sorted.begin() + (ss - 1), sorted.end());
  const double t_small = sorted[ss - 1];
  std::nth_element(sorted.begin(), sorted.begin() + (sl - 1), sorted.end());
  const double t_large = sorted[sl - 1];

  std::vector<std::pair<Index, Index>> small, large;
  for (Index idx = 0; idx < nfeas; ++idx) {
    const double v = vals[idx];
    if (v <= t_small) small.push_back(pairs[idx]);
    else if (v <= t_large) large.push_back(pairs[idx]);
  }

  const double tol = 1e-12 * std::max(1.0, std::abs(score_));
  InterruptCheck interrupt;
  auto evaluate = [&](const std::vector<std::pair<Index, Index>>& cand,
                      std::vector<std::pair<double, Index>>& good) {
    const Index nc = static_cast<Index>(cand.size());
    std::vector<double> newscore(nc);
    const bool chol = smooth(), blk = blocks();
    // Threads only pay off when there is enough work to share (candidate cost ~ span^2, or
    // span x n x k on the refit paths); tiny problems run serially.
    double work = 0.0;
    for (const auto& pq : cand) {
      const double m = static_cast<double>(pq.second - pq.first + 1);
      const double mm = m * static_cast<double>(m_);
      work += chol ? m * m : (blk ? mm * mm * mm : m * static_cast<double>(d_) * 50.0);
    }
    const bool par = work > 2e5;
    (void)par;
    // Ctrl-C: the calling thread (thread 0 of the team, the one that holds the Python thread
    // state the hook needs) polls after each candidate it evaluates; a stop flag then makes
    // every thread skip the remaining candidates, and Interrupted is thrown after the region
    // (exceptions must not cross it). The state is untouched until the region completes.
    std::atomic<bool> stop{false};
    const double work_per = work / static_cast<double>(std::max<Index>(1, nc));
#ifdef ADASOLVE_HAVE_OPENMP
#pragma omp parallel if (par)
#endif
    {
      Mat wk;
#ifdef ADASOLVE_HAVE_OPENMP
      const bool master = omp_get_thread_num() == 0;
#pragma omp for schedule(dynamic, 1)
#else
      const bool master = true;
#endif
      for (Index c = 0; c < nc; ++c) {
        if (stop.load(std::memory_order_relaxed)) continue;
        const auto [p, q] = cand[c];
        newscore[c] = chol ? eval_swap_chol(p, q, wk)
                           : (blk ? eval_swap_block(p, q, wk) : eval_swap_refit(p, q));
        if (master) {
          try {
            interrupt(work_per);
          } catch (const Interrupted&) {
            stop.store(true);
          }
        }
      }
    }
    if (stop.load()) throw Interrupted();
    n_evaluated_ += nc;
    if (opt_.check) {
      for (Index c = 0; c < nc; ++c) {
        const double s = scratch_score_after_swap(cand[c].first, cand[c].second);
        check_max_diff_ = std::max(check_max_diff_,
                                   std::abs(s - newscore[c]) / std::max(1.0, std::abs(s)));
      }
    }
    good.clear();
    for (Index c = 0; c < nc; ++c)
      if (newscore[c] < score_ - tol) good.emplace_back(newscore[c], c);
    return !good.empty();
  };

  std::vector<std::pair<double, Index>> good;
  const std::vector<std::pair<Index, Index>>* used = &small;
  if (!evaluate(small, good)) {
    if (large_used_ >= n_large_search_ || !evaluate(large, good)) {
      ++n_iter_;
      return Status::Converged;
    }
    ++large_used_;
    used = &large;
  }

  // Greedy multi-swap: best first, position intervals pairwise disjoint. Disjoint swaps do
  // not interact (each node's fit depends only on the set of its predecessors), so the new
  // score is the old one plus the sum of the accepted improvements.
  std::stable_sort(good.begin(), good.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<char> taken(d_, 0);
  for (const auto& [s, c] : good) {
    const auto [p, q] = (*used)[c];
    bool free = true;
    for (Index k = p; k <= q && free; ++k) free = !taken[k];
    if (!free) continue;
    for (Index k = p; k <= q; ++k) taken[k] = 1;
    apply_swap(p, q);
  }
  if (smooth()) weights_from_factor();
  else if (blocks()) weights_additive();
  ++n_iter_;
  history_.push_back(score_);
  if (opt_.check) check_state();
  return Status::Running;
}

double Solver::l1_term() const {
  if (opt_.l1 == 0.0) return 0.0;
  double s = 0.0;
  for (Index v = 0; v < d_; ++v)
    for (Index u = 0; u < d_; ++u)
      if (!req_[u * d_ + v]) s += std::abs(W_(u, v));
  return opt_.l1 * s;
}

double Solver::exact_score() const {
  if (m_ > 0) {
    // refit every node from the feature Gram matrix (independent of the factor L_)
    std::vector<Index> preds;
    Vec w;
    double s = 0.0;
    for (Index k = 0; k < d_; ++k) {
      s += node_fit_additive(order_[k], preds, w);
      preds.push_back(order_[k]);
    }
    return s;
  }
  if (opt_.loss == Loss::L2) {
    Mat M = Mat::Identity(d_, d_) - W_;
    const double fit = 0.5 * (G_ * M).cwiseProduct(M).sum();
    return fit + l1_term() + 0.5 * opt_.l2 * W_.squaredNorm();
  }
  Mat E = X_ * W_;
  double s = 0.0;
  for (Index j = 0; j < d_; ++j)
    for (Index i = 0; i < n_; ++i) s += softplus(E(i, j)) - X_(i, j) * E(i, j);
  return s / static_cast<double>(n_) + l1_term() + 0.5 * opt_.l2 * W_.squaredNorm();
}

std::vector<Index> greedy_order_cov(const Mat& cov, const std::vector<Edge>& precede) {
  const Index d = cov.rows();
  require(d >= 1 && cov.cols() == d, "topo_swap: the covariance must be square and non-empty");
  Mat S = 0.5 * (cov + cov.transpose());
  // Pivoted Cholesky that always eliminates the node with the smallest residual variance given
  // the nodes already placed: each step adds the cheapest node to the least-squares score.
  // With precedences, only nodes whose required predecessors are all placed are eligible.
  std::vector<Index> waiting(d, 0);
  std::vector<std::vector<Index>> after(d);
  for (const Edge& e : precede) {
    require(e.first >= 0 && e.first < d && e.second >= 0 && e.second < d,
            "topo_swap: precede has an invalid edge");
    ++waiting[e.second];
    after[e.first].push_back(e.second);
  }
  std::vector<Index> order;
  std::vector<char> used(d, 0);
  const double floor = 1e-12 * std::max(S.diagonal().mean(), std::numeric_limits<double>::min());
  for (Index k = 0; k < d; ++k) {
    Index best = -1;
    for (Index i = 0; i < d; ++i)
      if (!used[i] && waiting[i] == 0 && (best < 0 || S(i, i) < S(best, best))) best = i;
    require(best >= 0, "topo_swap: the precedence constraints form a cycle");
    used[best] = 1;
    order.push_back(best);
    for (Index v : after[best]) --waiting[v];
    const double piv = std::max(S(best, best), floor);
    const Vec col = S.col(best);
    for (Index j = 0; j < d; ++j) {
      if (used[j]) continue;
      const double f = col[j] / piv;
      if (f == 0.0) continue;
      for (Index i = 0; i < d; ++i)
        if (!used[i]) S(i, j) -= f * col[i];
    }
  }
  return order;
}

std::vector<Index> greedy_order(const double* X, Index n, Index d,
                                const std::vector<Edge>& precede) {
  require(n >= 1 && d >= 1, "topo_swap: X must be non-empty");
  Eigen::Map<const RowMatrix<double>> Xm(X, n, d);
  const Eigen::RowVectorXd mu = Xm.colwise().mean();
  Mat Xc = Xm.rowwise() - mu;
  Mat S = Mat::Zero(d, d);
  S.selfadjointView<Eigen::Lower>().rankUpdate(Xc.transpose(), 1.0 / static_cast<double>(n));
  S.triangularView<Eigen::StrictlyUpper>() = S.transpose();
  return greedy_order_cov(S, precede);
}

double fit_order(const double* X, Index n, Index d, const std::vector<Index>& order,
                 const Options& opt, Mat& W) {
  Solver s(X, n, d, order, opt);
  W = s.W();
  return s.score();
}

}  // namespace adasolve::dag
