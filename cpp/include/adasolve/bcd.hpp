// adasolve::bcd: greedy block coordinate descent (Nutini, Laradji, Schmidt, JMLR 2022).
//
// Plain C++17 + Eigen, no Python types. One engine serves least squares, binary logistic,
// softmax (multiclass logistic) and quadratic label propagation, each with per-variable L1 / L2
// weights and an optional non-negativity constraint, on dense or CSR designs.
//
// Variables: for the GLMs, variable v = j * K + c is the weight of feature j for output c
// (K = 1 except softmax); for the quadratic problem f(x) = 1/2 x'Ax - b'x, v is a node.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <Eigen/Core>
#include <Eigen/SparseCore>

#include "adasolve/common.hpp"

namespace adasolve::bcd {

// Each choice is one enum, decided once: Python parses the user's string into these (bound with
// py::enum_ in cpp/bindings/bcd.cpp) and the Solver's constructor turns them into the engine it
// runs (Solver::options() returns them with Blocks::Auto resolved).
enum class Loss { LeastSquares, Logistic, Softmax, Quadratic };
/// Block selection rule: cyclic order, uniform random, sampling proportional to the Lipschitz
/// constants, or greedy Gauss-Southwell scores (GS: |s|; GSL: over sqrt(L); GSD: coordinate-wise
/// over sqrt(L_i); GSQ: the quadratic model's decrease).
enum class Rule { Cyclic, Random, Lipschitz, GS, GSL, GSD, GSQ };
/// Block structure. Auto: variable blocks for the greedy rules GS, GSL and GSD (they beat fixed
/// blocks in most of the benchmark's comparisons), sorted fixed blocks for the other rules
/// (random, cyclic and Lipschitz sampling gain nothing from variable blocks, and GSQ on
/// variable blocks costs ten Hessian products an iteration).
enum class Blocks { Fixed, Sorted, Random, Variable, Tree, Auto };
enum class Update { Gradient, Lipschitz, Newton, MessagePassing };
/// How blocks="tree" forms its forests: grown each iteration in the rule's order (greedy for
/// gs/gsl/gsd, random order for rule=random), or a fixed partition of the graph computed once:
/// red-black colouring (each colour an independent set: a forest without edges) or a partition
/// into forests. Partition blocks are then chosen by any rule, as fixed blocks are.
enum class TreeKind { Grow, RedBlack, Partition };

/// The block structure Blocks::Auto stands for under `rule` (any other value is returned as is).
Blocks resolve_blocks(Blocks blocks, Rule rule);

/// Problem data. The engine keeps its own column-major copy of the design (column access is
/// what coordinate descent needs) and, for sparse designs, the CSR form for row access.
struct ProblemData {
  Loss loss = Loss::LeastSquares;
  Index n_samples = 0, n_features = 0, n_classes = 1;
  bool sparse = false;
  Eigen::MatrixXd Xd;                               // dense design (n x p), column-major
  Eigen::SparseMatrix<double, Eigen::ColMajor> Xs;  // sparse design, CSC
  Eigen::SparseMatrix<double, Eigen::RowMajor> Xr;  // sparse design, CSR (row updates)
  Eigen::VectorXd y;                                // LS target / logistic labels in {-1, +1}
  Eigen::MatrixXd Y;                                // softmax one-hot targets (n x K)
  Eigen::SparseMatrix<double, Eigen::ColMajor> A;   // quadratic: symmetric positive definite
  Eigen::VectorXd b;                                // quadratic: linear term
  Eigen::VectorXd l1, l2;                           // per-variable penalty weights
  bool nonneg = false;
  Eigen::VectorXd x0;                               // optional warm start (empty: zeros)

  Index n_vars() const { return loss == Loss::Quadratic ? A.cols() : n_features * n_classes; }
};

/// Defaults are bcd_minimize's (tests/test_bcd.py checks that they agree).
struct Options {
  Rule rule = Rule::GSL;
  Blocks blocks = Blocks::Auto;
  Update update = Update::Lipschitz;
  TreeKind tree = TreeKind::Grow;
  Index block_size = 5;
  double tol = 1e-6;
  std::uint64_t seed = 0;
  Index gram_limit = 4096;  // least squares keeps X'X when p <= gram_limit (incremental gradient)
  /// Greedy bookkeeping: -1 auto (tournament trees when updates change few gradient entries:
  /// label propagation and sparse designs without the Gram matrix), 0 always scan
  /// (nth_element over all scores), 1 force the trees (sparse problems only).
  int priority = -1;
};

/// Throws std::invalid_argument for rule/blocks/update combinations the paper does not define
/// (o.blocks must be resolved: not Blocks::Auto).
void check_combination(const ProblemData& P, const Options& o);

class Solver {
 public:
  Solver(ProblemData data, Options opts);
  ~Solver();
  /// Run at most `iters` iterations; returns how many ran. Stops early once the optimality
  /// measure (infinity norm of the minimum-norm subgradient) is <= tol.
  Index run(Index iters);
  const Eigen::VectorXd& x() const;
  double fun() const;
  double optimality() const;
  Index nit() const;
  bool converged() const;
  const std::vector<double>& hist_fun() const;
  const std::vector<double>& hist_opt() const;
  const std::vector<double>& hist_time() const;
  /// Blocks chosen (last iteration), for tests.
  const std::vector<Index>& last_block() const;
  /// Whether greedy selection runs on tournament trees (Options::priority).
  bool uses_priority() const;
  /// The options the engine runs with (Blocks::Auto resolved).
  const Options& options() const;
  /// The fixed partition (empty for variable and grown tree blocks).
  const std::vector<std::vector<Index>>& partition() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> p_;
};

/// Exact solve of A_bb d = r for a block whose sub-graph of A is a forest, by Gaussian
/// elimination along the trees (leaves to roots, then back): O(|block| + edges).
/// Throws std::invalid_argument if the block's graph has a cycle.
Eigen::VectorXd tree_solve(const Eigen::SparseMatrix<double, Eigen::ColMajor>& A,
                           const std::vector<Index>& block, const Eigen::VectorXd& r);

/// Same system by Gaussian belief propagation (exact on trees after diameter rounds).
Eigen::VectorXd gabp_solve(const Eigen::SparseMatrix<double, Eigen::ColMajor>& A,
                           const std::vector<Index>& block, const Eigen::VectorXd& r,
                           Index max_rounds = 1000, double tol = 1e-13);

}  // namespace adasolve::bcd
