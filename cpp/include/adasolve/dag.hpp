// adasolve::dag: NOTEARS objectives optimized by topological swaps
// (Deng, Bello, Aragam, Ravikumar, ICML 2023). Plain C++17 + Eigen core (no Python types).
//
// The outer search runs over topological orders; the inner problem, given an order, fits every
// node on its predecessors. For loss "l2" without L1 the inner problem is ordinary (or ridge)
// least squares, and everything is done from the Gram matrix G = Xc^T Xc / n of the centred
// data: the residual variance of the node at position k on the first k nodes is D_k = L_kk^2,
// where L is the Cholesky factor of G permuted to the order. A swap of positions a < b changes
// rows a..b of L only (and rotates columns a..b of the rows below); the new factor is obtained
// from the old one by two sweeps of Givens rotations in O((b-a)^2) for scoring a candidate
// (O((d-a)(b-a)) when the swap is applied), never from X and never by refactorizing.
// With L1 (loss "l2") the nodes between the swapped positions are refit by coordinate descent
// on the Gram matrix; the logistic loss cannot be written in terms of X^T X, so it keeps X and
// refits those nodes by proximal Newton with coordinate descent.
//
// Additive model (Model::Additive): every node's feature block is [x, relu(x - t_1), ...,
// relu(x - t_K)] (knots at quantiles); a node is fitted by least squares on the blocks of its
// predecessors. With the target x first in its block, the residual variance of the node at
// position k is the square of the first diagonal entry of block k in the Cholesky factor of the
// block-permuted feature Gram matrix, so a candidate swap of positions a < b is scored from one
// factorization of the blocks a..b conditioned on the blocks before a (never from X).
//
// Prior knowledge: `precede` pairs (u before v: required edges and tiers) restrict the orders
// searched (a swap that would break one is never scored); `forbidden` edges remove a parent from
// a node's regression (then the nodes between swapped positions are refit: the Cholesky
// identities no longer hold); required edges get no L1 penalty and so stay in the support.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "adasolve/common.hpp"

namespace adasolve::dag {

using Mat = Eigen::MatrixXd;  // column-major
using Vec = Eigen::VectorXd;

enum class Loss { L2 = 0, Logistic = 1 };
enum class Model { Linear = 0, Additive = 1 };
using Edge = std::pair<Index, Index>;  ///< (parent, child)

struct Options {
  Loss loss = Loss::L2;
  double l1 = 0.0;               ///< L1 penalty weight on W
  double l2 = 0.0;               ///< 0.5 * l2 * ||W||_F^2 penalty weight
  Index size_small = -1;         ///< candidate set sizes (<0: the authors' defaults)
  Index size_large = -1;
  Index n_large_search = -1;     ///< times the large set may be used (<0: default)
  bool check = false;            ///< debug: compare incremental scores with refits from scratch
  double cd_tol = 1e-9;          ///< coordinate-descent tolerance (L1 / logistic paths)
  Index cd_max_iter = 2000;
  Model model = Model::Linear;
  Index n_knots = 5;             ///< additive model: knots per node (block size 1 + n_knots)
  std::vector<Edge> required;    ///< edges forced into the support (parent precedes child)
  std::vector<Edge> forbidden;   ///< edges never in the support
  std::vector<Edge> precede;     ///< (u, v): u must come before v in every order (tiers)
};

/// Authors' default candidate-set sizes for a d-node problem (dagrad's topo_linear).
void default_sizes(Index d, Index& size_small, Index& size_large, Index& n_large_search);

/// Outer-iteration status returned by Solver::step().
enum class Status { Running = 0, Converged = 1 };

/// The topological-swap search. Construct with the data, then call step() until it returns
/// Converged (one call = one outer iteration, so a caller can interleave callbacks).
class Solver {
 public:
  /// X: n x d data, row-major, not modified. order: initial permutation of 0..d-1.
  Solver(const double* X, Index n, Index d, const std::vector<Index>& order, const Options& opt);
  /// Sufficient statistics (loss L2, linear model): cov = Xc^T Xc / n (d x d, centred), n rows.
  Solver(const Mat& cov, Index n, const std::vector<Index>& order, const Options& opt);

  Status step();

  Index d() const { return d_; }
  const std::vector<Index>& order() const { return order_; }
  const Mat& W() const { return W_; }        ///< rows are parents
  double score() const { return score_; }    ///< objective at W (incremental bookkeeping)
  double exact_score() const;                ///< objective recomputed at W from G (or X)
  const std::vector<double>& history() const { return history_; }
  Index n_swaps() const { return n_swaps_; }
  Index n_iter() const { return n_iter_; }
  Index n_evaluated() const { return n_evaluated_; }
  Index size_small() const { return size_small_; }
  Index size_large() const { return size_large_; }
  Index n_large_search() const { return n_large_search_; }
  Index large_used() const { return large_used_; }
  /// Debug hook (Options::check): largest |incremental - from scratch| score difference seen.
  double check_max_diff() const { return check_max_diff_; }

 private:
  void setup(const std::vector<Index>& order);
  bool smooth() const {
    return opt_.loss == Loss::L2 && opt_.l1 == 0.0 && !has_excluded_ && m_ == 0;
  }
  bool blocks() const { return m_ > 0 && !has_excluded_; }  // additive, block Cholesky path
  bool feasible_swap(Index a, Index b) const;
  void full_fit();                                    // fit every node for order_
  double node_fit(Index node, const std::vector<Index>& preds, const Vec* warm, Vec& w) const;
  double node_fit_linear(Index node, const std::vector<Index>& preds, const Vec* warm,
                         Vec& w) const;
  double l1_term() const;                                     // L1 penalty of W_ (not required)
  double eval_swap_chol(Index a, Index b, Mat& work) const;   // new score, smooth path
  double eval_swap_block(Index a, Index b, Mat& work) const;  // new score, additive path
  double node_fit_additive(Index node, const std::vector<Index>& preds, Vec& strength) const;
  void factor_blocks();                                      // additive: L_ and node losses
  void weights_additive();                                   // additive: W (strengths)
  double eval_swap_refit(Index a, Index b) const;            // new score, general path
  void apply_swap(Index a, Index b);
  void refresh_columns(Index a, Index b);                    // W columns, losses for positions a..b
  void weights_from_factor();                                // smooth path: W and losses from L_
  double scratch_score_after_swap(Index a, Index b) const;   // check hook
  void check_state();

  Options opt_;
  Index n_, d_;
  Mat G_;        // Gram / n (centred, l2 loss); plus l2 + jitter on the diagonal in Gr_
  Mat X_;        // logistic only: n x d column-major copy
  double ridge_ = 0.0;   // l2 + jitter, used by the Cholesky path
  Mat L_;        // smooth path: Cholesky factor of Gr_ permuted to order_ (position coordinates)
  std::vector<Index> order_, pos_;
  Mat W_;
  Vec node_loss_;        // loss + penalties of each node's column
  double score_ = 0.0;
  std::vector<double> history_;
  Index n_swaps_ = 0, n_iter_ = 0, n_evaluated_ = 0;
  Index size_small_ = 0, size_large_ = 0, n_large_search_ = 0, large_used_ = 0;
  double check_max_diff_ = 0.0;
  Index m_ = 0;                       // additive: block size (0: linear model)
  std::vector<char> before_;          // d x d: before_[u * d + v] = u must precede v
  std::vector<char> excluded_;        // d x d: excluded_[u * d + v] = u never a parent of v
  std::vector<char> req_;             // d x d: required edge u -> v (no L1 penalty)
  bool has_order_ = false, has_excluded_ = false;
};

/// Default initial order: greedily place the node with the smallest residual variance given
/// the nodes already placed (pivoted Cholesky of the centred Gram matrix, smallest pivot first).
/// `precede` pairs (u before v) are respected: a node is placed only after all it must follow.
std::vector<Index> greedy_order(const double* X, Index n, Index d,
                                const std::vector<Edge>& precede = {});
/// The same from the centred covariance cov = Xc^T Xc / n.
std::vector<Index> greedy_order_cov(const Mat& cov, const std::vector<Edge>& precede = {});

/// Inner solver alone: fit every node on its predecessors in `order` (rows of W are parents).
/// Returns the objective; fills W (d x d) and node_loss (d).
double fit_order(const double* X, Index n, Index d, const std::vector<Index>& order,
                 const Options& opt, Mat& W);

}  // namespace adasolve::dag
