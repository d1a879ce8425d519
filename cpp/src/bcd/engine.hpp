// Private header of the BCD engine (cpp/src/bcd/*.cpp): the solver state and its parts.
//
// The engine is split along the algorithm's lines; each .cpp file defines one group of
// Solver::Impl's methods:
//   solver.cpp           setup, the optimality measure, the iteration loop, the public Solver API
//   loss.cpp             objective, gradient and curvature of each loss (block Hessians, bounds)
//   structure.cpp        block structure: fixed partitions, red-black colouring, forests
//   selection.cpp        selection rules and their incremental bookkeeping (tournament trees)
//   update.cpp           block updates (gradient, Lipschitz matrix, Newton, two-metric projection)
//   message_passing.cpp  exact solves on forest blocks (tree_solve, gabp_solve)
#pragma once

#include "adasolve/bcd.hpp"
#include "adasolve/common/scalar.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include <Eigen/Cholesky>

namespace adasolve::bcd {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using SpCol = Eigen::SparseMatrix<double, Eigen::ColMajor>;

namespace detail {

// minimum-norm subgradient of f + l1|x| (+ indicator x >= 0) at coordinate value xv with
// smooth gradient gv.
inline double min_norm_sub(double xv, double gv, double lam, bool nonneg) {
  if (xv > 0) return gv + lam;
  if (xv < 0) return gv - lam;  // only reachable without nonneg
  if (nonneg) return std::min(gv + lam, 0.0);
  return soft_threshold(gv, lam);
}

// Tournament (segment) tree over n scores: max with its index (ties: the smaller index) in
// O(1), one score changed in O(log n), the k best in O(k log n log k), rebuilt in O(n). It keeps
// greedy selection proportional to the number of scores an iteration changes.
struct MaxTree {
  Index n = 0, size = 1;
  std::vector<double> val;
  std::vector<Index> arg;
  bool better(Index a, Index b) const {
    return val[a] > val[b] || (val[a] == val[b] && arg[a] < arg[b]);
  }
  void pull(Index p) {
    const Index l = 2 * p, r = l + 1, w = better(l, r) ? l : r;
    val[p] = val[w];
    arg[p] = arg[w];
  }
  template <class F>
  void build(Index n_, F&& score) {
    n = n_;
    size = 1;
    while (size < n) size *= 2;
    val.assign(2 * size, -1.0);
    arg.assign(2 * size, std::numeric_limits<Index>::max());
    for (Index i = 0; i < n; ++i) { val[size + i] = score(i); arg[size + i] = i; }
    for (Index p = size - 1; p >= 1; --p) pull(p);
  }
  void set(Index i, double x) {
    Index p = size + i;
    val[p] = x;
    for (p >>= 1; p >= 1; p >>= 1) {
      const double ov = val[p];
      const Index oa = arg[p];
      pull(p);
      if (val[p] == ov && arg[p] == oa && arg[p] != i) break;  // ancestors unchanged
    }
  }
  double max() const { return val[1]; }
  Index argmax() const { return arg[1]; }
  // the k best leaves in order (value descending, index ascending): best-first search over
  // nodes; a popped node descends to its winning leaf, leaving the losing siblings queued
  void topk(Index k, std::vector<Index>& out, std::vector<std::pair<double, Index>>& heap) const {
    out.clear();
    heap.clear();
    auto worse = [&](const std::pair<double, Index>& a, const std::pair<double, Index>& b) {
      return a.first < b.first || (a.first == b.first && arg[a.second] > arg[b.second]);
    };
    heap.push_back({val[1], 1});
    while ((Index)out.size() < k && !heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), worse);
      Index p = heap.back().second;
      heap.pop_back();
      while (p < size) {
        const Index l = 2 * p, r = l + 1;
        const Index w = arg[l] == arg[p] ? l : r, o = w == l ? r : l;
        if (arg[o] < std::numeric_limits<Index>::max()) {
          heap.push_back({val[o], o});
          std::push_heap(heap.begin(), heap.end(), worse);
        }
        p = w;
      }
      out.push_back(arg[p]);
    }
  }
};

struct UnionFind {
  std::vector<Index> parent;
  explicit UnionFind(Index n) : parent(n) { std::iota(parent.begin(), parent.end(), Index(0)); }
  Index find(Index a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  }
};

}  // namespace detail

using detail::MaxTree;
using detail::min_norm_sub;
using detail::UnionFind;

struct Solver::Impl {
  ProblemData P;
  Options o;
  Index nv = 0, K = 1, n = 0, p = 0;
  bool quad = false, prox = false, use_gram = false;
  std::mt19937_64 rng;

  VectorXd x, g, s;  // variables, smooth gradient, min-norm subgradient
  MatrixXd Z, D;     // linear predictor and loss derivative (n x K), GLMs only
  MatrixXd G;        // X'X (least squares, small p)
  VectorXd Ldiag;    // coordinate Lipschitz constants (upper bound)
  VectorXd rowsum;   // Hessian row-sum bound (variable-block 'gsl')
  double fval = 0.0, opt = 0.0, l1val = 0.0;
  Index it = 0;
  bool conv = false;
  std::vector<double> hf, ho, ht;
  std::chrono::steady_clock::time_point t0;
  double elapsed = 0.0;

  // fixed partitions
  std::vector<std::vector<Index>> parts;
  std::vector<double> Lb;                              // block Lipschitz constants
  std::vector<Eigen::LDLT<MatrixXd>> Hinv;             // cached factorizations of bound H_b
  std::vector<char> hinv_ready;
  std::vector<Index> block, perm;
  Index perm_pos = 0;
  double mu_iht = -1.0;

  // incremental bookkeeping (sparse problems): the variables whose gradient (or value) the last
  // update changed, the optimality measure and the greedy scores kept in tournament trees
  bool inc = false;        // gradient updates touch a subset of variables
  bool use_heap = false;   // greedy scores live in a tournament tree
  std::vector<Index> changed, part_of, dirty_parts;
  std::vector<char> chmark, partmark, rowmark;
  bool all_changed = true;
  MaxTree opt_tree, score_tree;
  VectorXd wsc;            // variable blocks: score_v = |s_v| / wsc_v
  std::vector<std::pair<double, Index>> heap_buf;
  std::vector<double> row_old;  // per touched row: its loss before the update

  Index cur_part = -1;   // the fixed-partition block chosen this iteration

  // The engine this configuration runs, decided once by plan() (in setup): how a block is
  // chosen and which step solves it.
  enum class Select { Partition, Variable, GrowForest };
  enum class Step { Gradient, LipschitzMatrix, Newton, TwoMetric, MessagePassing };
  Select select = Select::Partition;
  Step step = Step::LipschitzMatrix;

  explicit Impl(ProblemData d, Options op) : P(std::move(d)), o(op), rng(op.seed) {}

  // ---------------- design access (inline: used in every part)
  template <class F>
  void for_col(Index j, F&& f) const {
    if (P.sparse) {
      for (SpCol::InnerIterator it(P.Xs, j); it; ++it) f(it.row(), it.value());
    } else {
      const double* c = P.Xd.data() + j * n;
      for (Index i = 0; i < n; ++i) f(i, c[i]);
    }
  }
  // graph of A without the diagonal (and explicit zeros)
  template <class F>
  void for_nbr(Index v, F&& f) const {
    for (SpCol::InnerIterator itA(P.A, v); itA; ++itA)
      if (itA.row() != v && itA.value() != 0.0) f(itA.row());
  }
  double loss_scale() const {
    // curvature bound of the loss per unit of (x_j'x_k): 1, 1/4 (logistic), 1/2 (softmax)
    return P.loss == Loss::Logistic ? 0.25 : (P.loss == Loss::Softmax ? 0.5 : 1.0);
  }
  bool forest_blocks() const { return o.blocks == Blocks::Tree; }
  void mark(Index v) {
    if (inc && !chmark[v]) { chmark[v] = 1; changed.push_back(v); }
  }
  // ---------------- solver.cpp: setup, the optimality measure, the iteration loop
  void setup();
  // resolves Blocks::Auto, checks the combination, picks `select` and `step`
  void plan();
  void refresh_s();
  Index run(Index iters);
  // ---------------- loss.cpp: objective, gradient, curvature (block Hessians, Lipschitz bounds)
  void compute_D_rows_all();
  void softmax_row(Index i);
  double smooth_from_Z(const MatrixXd& Zm) const;
  double objective() const;
  void full_gradient();
  static double logistic_row_loss(double yi, double zi);
  double softmax_row_loss(Index i) const;
  double row_loss(Index i) const;
  // Bound Hessian (Lipschitz matrix) or the true Hessian of the smooth part on a block.
  MatrixXd block_hessian(const std::vector<Index>& b, bool exact) const;
  double lambda_max(const MatrixXd& H) const;
  // Hessian-bound-vector product for IHT (whole variable vector)
  VectorXd hess_bound_vec(const VectorXd& d) const;
  // largest eigenvalue of the block's bound Hessian; for large sparse (graph) blocks the
  // Gershgorin bound max_i sum_j |A_ij| instead of a dense eigensolve (exact on red-black
  // colours, whose blocks are diagonal)
  double lipschitz_of(const std::vector<Index>& b) const;
  void make_rowsum();
  // f(x + d on block b) - f(x), smooth part plus L1 (exact; O(|b|^2) for quadratics, O(nK)
  // through the linear predictor otherwise).
  double block_delta_f(const std::vector<Index>& b, const VectorXd& gb, const VectorXd& xb,
                       const VectorXd& lam, const VectorXd& d, const MatrixXd* Hq) const;
  // ---------------- structure.cpp: block structure (fixed partitions, red-black colouring, forests)
  std::vector<Index> order_by_L() const;
  // Red-black colouring: two colours by breadth-first search when the graph is bipartite (the
  // lattice); otherwise greedy colouring by decreasing L_i, each node taking the least-used
  // colour none of its neighbours has (the reference code's rule for general graphs).
  std::vector<std::vector<Index>> red_black() const;
  // Partition into forests: nodes by decreasing L_i, each into the first forest it keeps
  // acyclic (its neighbours there lie in distinct trees), a new forest when none does.
  std::vector<std::vector<Index>> forest_partition() const;
  void make_partition();
  double block_L(Index k);
  const Eigen::LDLT<MatrixXd>& block_inv(Index k);
  void select_tree();
  // ---------------- selection.cpp: selection rules and their incremental bookkeeping
  std::vector<Index> topk(const VectorXd& score, Index k) const;
  void select_fixed();
  double part_score(Index k);
  void select_variable();
  // GSQ for variable blocks: a few iterative-hard-thresholding steps on the quadratic model
  VectorXd iht_scores();
  // Called at the end of setup(): which bookkeeping this problem gets.
  void setup_incremental();
  // After an update: the minimum-norm subgradient, the optimality measure and the greedy scores
  // of the changed variables (everything when the update changed everything).
  void refresh_after_update();
  void build_trees();
  // ---------------- update.cpp: block updates
  VectorXd prox_quad(const MatrixXd& H, const VectorXd& gb, const VectorXd& xb, const VectorXd& lam) const;
  // Apply step d on block b: updates x, Z/D, g, fval, and records the changed variables.
  void apply(const std::vector<Index>& b, const VectorXd& d);
  double composite_block(const std::vector<Index>& b) const;
  // Two-metric projection (Bertsekas 1982; the reference code's "TMP-NN") for x >= 0, where the
  // L1 term is linear: G = g + lambda. Coordinates at (or within eps of) the bound whose gradient
  // pushes outward get a scaled-gradient step G_i / sum_{active} L_i; the others a Newton step
  // with the true block Hessian; x_b(t) = max(0, x_b + t dir) with Armijo backtracking.
  VectorXd two_metric_step(const std::vector<Index>& b, const VectorXd& gb, const VectorXd& xb,
                           const VectorXd& lam);
  void update_block();
};

}  // namespace adasolve::bcd
