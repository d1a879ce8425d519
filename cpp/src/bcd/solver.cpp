// Greedy block coordinate descent engine. See bcd.hpp for the problem conventions.
#include "adasolve/bcd.hpp"
#include "adasolve/common/coloring.hpp"
#include "adasolve/common/scalar.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <unordered_map>

#include <Eigen/Dense>

namespace adasolve::bcd {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using SpCol = Eigen::SparseMatrix<double, Eigen::ColMajor>;

// ------------------------------------------------------------------------------------------
// name parsing
Rule parse_rule(const std::string& s) {
  if (s == "cyclic") return Rule::Cyclic;
  if (s == "random") return Rule::Random;
  if (s == "lipschitz") return Rule::Lipschitz;
  if (s == "gs") return Rule::GS;
  if (s == "gsl") return Rule::GSL;
  if (s == "gsd") return Rule::GSD;
  if (s == "gsq") return Rule::GSQ;
  throw std::invalid_argument("rule must be one of 'cyclic', 'random', 'lipschitz', 'gs', 'gsl', "
                              "'gsd', 'gsq'; got '" + s + "'");
}
Blocks parse_blocks(const std::string& s) {
  if (s == "fixed") return Blocks::Fixed;
  if (s == "sorted") return Blocks::Sorted;
  if (s == "random") return Blocks::Random;
  if (s == "variable") return Blocks::Variable;
  if (s == "tree") return Blocks::Tree;
  throw std::invalid_argument("blocks must be one of 'fixed', 'sorted', 'random', 'variable', "
                              "'tree'; got '" + s + "'");
}
Update parse_update(const std::string& s) {
  if (s == "gradient") return Update::Gradient;
  if (s == "lipschitz") return Update::Lipschitz;
  if (s == "newton") return Update::Newton;
  if (s == "message-passing") return Update::MessagePassing;
  throw std::invalid_argument("update must be one of 'gradient', 'lipschitz', 'newton', "
                              "'message-passing'; got '" + s + "'");
}
TreeKind parse_tree(const std::string& s) {
  if (s == "grow") return TreeKind::Grow;
  if (s == "red-black") return TreeKind::RedBlack;
  if (s == "partition") return TreeKind::Partition;
  throw std::invalid_argument("tree must be one of 'grow', 'red-black', 'partition'; got '" + s + "'");
}
Loss parse_loss(const std::string& s) {
  if (s == "least_squares") return Loss::LeastSquares;
  if (s == "logistic") return Loss::Logistic;
  if (s == "softmax") return Loss::Softmax;
  if (s == "quadratic") return Loss::Quadratic;
  throw std::invalid_argument("unknown loss '" + s + "'");
}

void check_combination(const ProblemData& P, const Options& o) {
  const bool quad = P.loss == Loss::Quadratic;
  const bool prox = P.nonneg || (P.l1.size() && P.l1.maxCoeff() > 0);
  const Index n = P.n_vars();
  require(o.block_size >= 1, "block_size must be >= 1, got " + std::to_string(o.block_size));
  require(o.block_size <= n, "block_size (" + std::to_string(o.block_size) +
                                 ") exceeds the number of variables (" + std::to_string(n) + ")");
  if (o.update == Update::MessagePassing) {
    require(quad, "update='message-passing' needs a quadratic problem (LabelPropagation); "
                  "valid updates here: 'gradient', 'lipschitz', 'newton'");
    require(o.blocks == Blocks::Tree, "update='message-passing' needs blocks='tree' (forest blocks); "
                                      "valid updates with these blocks: 'gradient', 'lipschitz', "
                                      "'newton'");
    require(!prox, "update='message-passing' does not handle L1 or non-negativity; valid updates "
                   "here: 'gradient', 'lipschitz', 'newton'");
  }
  if (o.blocks == Blocks::Tree) {
    require(quad, "blocks='tree' needs a quadratic problem on a graph (LabelPropagation); valid "
                  "blocks here: 'fixed', 'sorted', 'random', 'variable'");
    require(!prox, "blocks='tree' does not handle L1 or non-negativity; valid blocks here: "
                   "'fixed', 'sorted', 'random', 'variable'");
    if (o.tree == TreeKind::Grow)
      require(o.rule == Rule::GS || o.rule == Rule::GSL || o.rule == Rule::GSD ||
                  o.rule == Rule::Random,
              "blocks='tree' with tree='grow' grows a forest in greedy or random order: valid rules "
              "are 'gs', 'gsl', 'gsd', 'random' (tree='red-black' or 'partition' take any rule)");
  } else {
    require(o.tree == TreeKind::Grow, "tree='red-black' and tree='partition' need blocks='tree'");
  }
}

// ------------------------------------------------------------------------------------------
namespace {

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

}  // namespace

// ------------------------------------------------------------------------------------------
// message passing on forests
Eigen::VectorXd tree_solve(const SpCol& A, const std::vector<Index>& block, const VectorXd& r) {
  const Index m = static_cast<Index>(block.size());
  require(r.size() == m, "tree_solve: rhs size must equal block size");
  std::unordered_map<Index, Index> pos;
  pos.reserve(m * 2);
  for (Index k = 0; k < m; ++k) pos[block[k]] = k;
  // adjacency inside the block
  std::vector<std::vector<std::pair<Index, double>>> adj(m);
  VectorXd diag = VectorXd::Zero(m);
  Index n_edges = 0;
  for (Index k = 0; k < m; ++k) {
    for (SpCol::InnerIterator it(A, block[k]); it; ++it) {
      if (it.row() == block[k]) { diag[k] += it.value(); continue; }
      auto f = pos.find(it.row());
      if (f != pos.end() && it.value() != 0.0) { adj[k].push_back({f->second, it.value()}); ++n_edges; }
    }
  }
  require(n_edges / 2 <= m - 1, "tree_solve: the block's graph has a cycle");
  // BFS order per component
  std::vector<Index> order, parent(m, -1);
  std::vector<double> pw(m, 0.0);
  std::vector<char> seen(m, 0);
  order.reserve(m);
  for (Index s = 0; s < m; ++s) {
    if (seen[s]) continue;
    seen[s] = 1;
    std::size_t head = order.size();
    order.push_back(s);
    while (head < order.size()) {
      Index u = order[head++];
      for (auto [v, w] : adj[u]) {
        if (v == parent[u]) continue;
        require(!seen[v], "tree_solve: the block's graph has a cycle");
        seen[v] = 1;
        parent[v] = u;
        pw[v] = w;
        order.push_back(v);
      }
    }
  }
  VectorXd D = diag, rhs = r;
  for (Index t = m - 1; t >= 0; --t) {  // eliminate leaves upward
    Index v = order[t], u = parent[v];
    require(D[v] > 0, "tree_solve: block is not positive definite");
    if (u >= 0) {
      D[u] -= pw[v] * pw[v] / D[v];
      rhs[u] -= pw[v] * rhs[v] / D[v];
    }
  }
  VectorXd d(m);
  for (Index t = 0; t < m; ++t) {  // back substitution downward
    Index v = order[t], u = parent[v];
    d[v] = (rhs[v] - (u >= 0 ? pw[v] * d[u] : 0.0)) / D[v];
  }
  return d;
}

Eigen::VectorXd gabp_solve(const SpCol& A, const std::vector<Index>& block, const VectorXd& r,
                           Index max_rounds, double tol) {
  const Index m = static_cast<Index>(block.size());
  require(r.size() == m, "gabp_solve: rhs size must equal block size");
  std::unordered_map<Index, Index> pos;
  for (Index k = 0; k < m; ++k) pos[block[k]] = k;
  // directed edges k -> l with message precision P and mean-times-precision h
  struct Edge { Index from, to, rev; double w, P, h; };
  std::vector<Edge> E;
  std::vector<std::vector<Index>> in(m);
  VectorXd diag = VectorXd::Zero(m);
  for (Index k = 0; k < m; ++k)
    for (SpCol::InnerIterator it(A, block[k]); it; ++it) {
      if (it.row() == block[k]) { diag[k] += it.value(); continue; }
      auto f = pos.find(it.row());
      if (f != pos.end() && it.value() != 0.0) E.push_back({k, f->second, -1, it.value(), 0, 0});
    }
  std::unordered_map<std::uint64_t, Index> eid;
  for (Index e = 0; e < (Index)E.size(); ++e) eid[(std::uint64_t)E[e].from * m + E[e].to] = e;
  for (Index e = 0; e < (Index)E.size(); ++e) {
    E[e].rev = eid.at((std::uint64_t)E[e].to * m + E[e].from);
    in[E[e].to].push_back(e);
  }
  VectorXd Pi(m), hi(m);
  for (Index round = 0; round < max_rounds; ++round) {
    for (Index k = 0; k < m; ++k) { Pi[k] = diag[k]; hi[k] = r[k]; }
    for (auto& e : E) { Pi[e.to] += e.P; hi[e.to] += e.h; }
    double change = 0.0;
    std::vector<std::pair<double, double>> nxt(E.size());
    for (Index e = 0; e < (Index)E.size(); ++e) {
      const Edge& ed = E[e];
      const Edge& back = E[ed.rev];
      double P = Pi[ed.from] - back.P, h = hi[ed.from] - back.h;
      double nP = -ed.w * ed.w / P, nh = -ed.w * h / P;
      change = std::max(change, std::abs(nP - ed.P) + std::abs(nh - ed.h));
      nxt[e] = {nP, nh};
    }
    for (Index e = 0; e < (Index)E.size(); ++e) { E[e].P = nxt[e].first; E[e].h = nxt[e].second; }
    if (change <= tol * (1.0 + diag.cwiseAbs().maxCoeff())) break;
  }
  for (Index k = 0; k < m; ++k) { Pi[k] = diag[k]; hi[k] = r[k]; }
  for (auto& e : E) { Pi[e.to] += e.P; hi[e.to] += e.h; }
  return hi.cwiseQuotient(Pi);
}

// ------------------------------------------------------------------------------------------
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

  explicit Impl(ProblemData d, Options op) : P(std::move(d)), o(op), rng(op.seed) {}

  // ---------------- design helpers
  template <class F>
  void for_col(Index j, F&& f) const {
    if (P.sparse) {
      for (SpCol::InnerIterator it(P.Xs, j); it; ++it) f(it.row(), it.value());
    } else {
      const double* c = P.Xd.data() + j * n;
      for (Index i = 0; i < n; ++i) f(i, c[i]);
    }
  }
  double loss_scale() const {
    // curvature bound of the loss per unit of (x_j'x_k): 1, 1/4 (logistic), 1/2 (softmax)
    return P.loss == Loss::Logistic ? 0.25 : (P.loss == Loss::Softmax ? 0.5 : 1.0);
  }

  void compute_D_rows_all() {
    if (P.loss == Loss::LeastSquares) {
      D.col(0) = Z.col(0) - P.y;
    } else if (P.loss == Loss::Logistic) {
      for (Index i = 0; i < n; ++i) {
        double m = P.y[i] * Z(i, 0);
        D(i, 0) = -P.y[i] * sigmoid(-m);
      }
    } else {
      for (Index i = 0; i < n; ++i) softmax_row(i);
    }
  }
  void softmax_row(Index i) {
    double mx = Z.row(i).maxCoeff(), sum = 0.0;
    for (Index c = 0; c < K; ++c) { D(i, c) = std::exp(Z(i, c) - mx); sum += D(i, c); }
    for (Index c = 0; c < K; ++c) D(i, c) = D(i, c) / sum - P.Y(i, c);
  }
  double smooth_from_Z(const MatrixXd& Zm) const {
    double f = 0.0;
    if (P.loss == Loss::LeastSquares) {
      f = 0.5 * (Zm.col(0) - P.y).squaredNorm();
    } else if (P.loss == Loss::Logistic) {
      for (Index i = 0; i < n; ++i) {
        double m = -P.y[i] * Zm(i, 0);
        f += softplus(m);
      }
    } else {
      for (Index i = 0; i < n; ++i) {
        double mx = Zm.row(i).maxCoeff();
        double lse = mx + std::log((Zm.row(i).array() - mx).exp().sum());
        f += lse - Zm.row(i).dot(P.Y.row(i));
      }
    }
    return f;
  }
  double objective() const {
    double f;
    if (quad) f = 0.5 * x.dot(P.A * x) - P.b.dot(x);
    else f = smooth_from_Z(Z);
    f += 0.5 * (P.l2.array() * x.array().square()).sum();
    f += (P.l1.array() * x.array().abs()).sum();
    return f;
  }
  void full_gradient() {
    if (quad) {
      g = P.A * x - P.b;
    } else {
      // g(j*K + c) = X_j' D_c
      MatrixXd XtD = P.sparse ? MatrixXd(P.Xs.transpose() * D) : MatrixXd(P.Xd.transpose() * D);
      for (Index j = 0; j < p; ++j)
        for (Index c = 0; c < K; ++c) g[j * K + c] = XtD(j, c);
    }
    g.array() += P.l2.array() * x.array();
  }
  void refresh_s() {
    opt = 0.0;
    for (Index v = 0; v < nv; ++v) {
      s[v] = min_norm_sub(x[v], g[v], P.l1[v], P.nonneg);
      opt = std::max(opt, std::abs(s[v]));
    }
  }

  // ---------------- setup
  void setup() {
    quad = P.loss == Loss::Quadratic;
    K = quad ? 1 : P.n_classes;
    n = P.n_samples;
    p = P.n_features;
    nv = P.n_vars();
    if (P.l1.size() == 0) P.l1 = VectorXd::Zero(nv);
    if (P.l2.size() == 0) P.l2 = VectorXd::Zero(nv);
    require(P.l1.size() == nv && P.l2.size() == nv, "penalty weights must have one entry per variable");
    require((P.l1.array() >= 0).all() && (P.l2.array() >= 0).all(), "penalties must be >= 0");
    prox = P.nonneg || P.l1.maxCoeff() > 0;
    check_combination(P, o);
    x = VectorXd::Zero(nv);
    if (P.x0.size()) {
      require(P.x0.size() == nv, "x0 must have one entry per variable");
      require(!P.nonneg || (P.x0.array() >= 0).all(), "x0 must be >= 0 with non-negativity");
      x = P.x0;
    }
    g = VectorXd::Zero(nv);
    s = VectorXd::Zero(nv);
    Ldiag.resize(nv);
    if (quad) {
      for (Index v = 0; v < nv; ++v) Ldiag[v] = P.A.coeff(v, v) + P.l2[v];
      require((Ldiag.array() > 0).all(), "the quadratic must have a positive diagonal");
    } else {
      Z = MatrixXd::Zero(n, K);
      D = MatrixXd::Zero(n, K);
      if (P.x0.size()) {
        MatrixXd Wm(p, K);
        for (Index j = 0; j < p; ++j) for (Index c = 0; c < K; ++c) Wm(j, c) = x[j * K + c];
        Z = P.sparse ? MatrixXd(P.Xs * Wm) : MatrixXd(P.Xd * Wm);
      }
      compute_D_rows_all();
      for (Index j = 0; j < p; ++j) {
        double nrm = 0.0;
        for_col(j, [&](Index, double a) { nrm += a * a; });
        for (Index c = 0; c < K; ++c) Ldiag[j * K + c] = loss_scale() * nrm + P.l2[j * K + c];
      }
      use_gram = P.loss == Loss::LeastSquares && p <= o.gram_limit;
      if (use_gram) G = P.sparse ? MatrixXd(P.Xs.transpose() * P.Xs) : MatrixXd(P.Xd.transpose() * P.Xd);
    }
    // coordinates with zero curvature and zero gradient never move; avoid dividing by zero
    for (Index v = 0; v < nv; ++v) if (Ldiag[v] <= 0) Ldiag[v] = 1e-12;
    full_gradient();
    fval = objective();
    refresh_s();
    hf.push_back(fval);
    ho.push_back(opt);
    ht.push_back(0.0);
    conv = opt <= o.tol;
    make_partition();
    setup_incremental();
  }

  // graph of A without the diagonal (and explicit zeros)
  template <class F>
  void for_nbr(Index v, F&& f) const {
    for (SpCol::InnerIterator itA(P.A, v); itA; ++itA)
      if (itA.row() != v && itA.value() != 0.0) f(itA.row());
  }
  std::vector<Index> order_by_L() const {
    // the reference code visits nodes by decreasing Lipschitz constant
    std::vector<Index> ord(nv);
    std::iota(ord.begin(), ord.end(), Index(0));
    std::stable_sort(ord.begin(), ord.end(), [&](Index a, Index b) { return Ldiag[a] > Ldiag[b]; });
    return ord;
  }

  // Red-black colouring: two colours by breadth-first search when the graph is bipartite (the
  // lattice); otherwise greedy colouring by decreasing L_i, each node taking the least-used
  // colour none of its neighbours has (the reference code's rule for general graphs).
  std::vector<std::vector<Index>> red_black() const {
    std::vector<int> col(nv, -1);
    bool bip = true;
    std::vector<Index> q;
    for (Index s0 = 0; s0 < nv && bip; ++s0) {
      if (col[s0] >= 0) continue;
      col[s0] = 0;
      q.assign(1, s0);
      for (std::size_t h = 0; h < q.size() && bip; ++h) {
        Index u = q[h];
        for_nbr(u, [&](Index w) {
          if (col[w] < 0) { col[w] = 1 - col[u]; q.push_back(w); }
          else if (col[w] == col[u]) bip = false;
        });
      }
    }
    if (!bip) {
      const std::vector<Index> c =
          greedy_colouring(order_by_L(), nv, [&](Index v, auto&& f) { for_nbr(v, f); },
                           ColourRule::least_used);
      col.assign(c.begin(), c.end());
    }
    int nc = *std::max_element(col.begin(), col.end()) + 1;
    std::vector<std::vector<Index>> out(nc);
    for (Index v = 0; v < nv; ++v) out[col[v]].push_back(v);
    return out;
  }

  // Partition into forests: nodes by decreasing L_i, each into the first forest it keeps
  // acyclic (its neighbours there lie in distinct trees), a new forest when none does.
  std::vector<std::vector<Index>> forest_partition() const {
    std::vector<UnionFind> uf;
    std::vector<int> forest(nv, -1);
    std::vector<std::vector<Index>> out;
    std::vector<Index> roots;
    for (Index v : order_by_L()) {
      int put = -1;
      for (int f = 0; f < (int)out.size() && put < 0; ++f) {
        roots.clear();
        bool ok = true;
        for_nbr(v, [&](Index w) {
          if (!ok || forest[w] != f) return;
          Index r = uf[f].find(w);
          if (std::find(roots.begin(), roots.end(), r) != roots.end()) ok = false;
          else roots.push_back(r);
        });
        if (ok) {
          put = f;
          for (Index r : roots) uf[f].parent[r] = v;
        }
      }
      if (put < 0) { put = (int)out.size(); out.emplace_back(); uf.emplace_back(nv); }
      forest[v] = put;
      out[put].push_back(v);
    }
    for (auto& b : out) std::sort(b.begin(), b.end());
    return out;
  }

  void make_partition() {
    if (o.blocks == Blocks::Variable) return;
    if (o.blocks == Blocks::Tree) {
      if (o.tree == TreeKind::Grow) return;
      parts = o.tree == TreeKind::RedBlack ? red_black() : forest_partition();
      Lb.assign(parts.size(), -1.0);
      Hinv.resize(parts.size());
      hinv_ready.assign(parts.size(), 0);
      return;
    }
    std::vector<Index> ord(nv);
    std::iota(ord.begin(), ord.end(), Index(0));
    if (o.blocks == Blocks::Sorted) {
      std::stable_sort(ord.begin(), ord.end(), [&](Index a, Index b) { return Ldiag[a] < Ldiag[b]; });
    } else if (o.blocks == Blocks::Random) {
      std::shuffle(ord.begin(), ord.end(), rng);
    }
    for (Index s0 = 0; s0 < nv; s0 += o.block_size) {
      Index e = std::min(nv, s0 + o.block_size);
      std::vector<Index> b(ord.begin() + s0, ord.begin() + e);
      std::sort(b.begin(), b.end());
      parts.push_back(std::move(b));
    }
    Lb.assign(parts.size(), -1.0);
    Hinv.resize(parts.size());
    hinv_ready.assign(parts.size(), 0);
  }

  // Bound Hessian (Lipschitz matrix) or the true Hessian of the smooth part on a block.
  MatrixXd block_hessian(const std::vector<Index>& b, bool exact) const {
    const Index m = static_cast<Index>(b.size());
    MatrixXd H = MatrixXd::Zero(m, m);
    if (quad) {
      for (Index a = 0; a < m; ++a) for (Index c = 0; c < m; ++c) H(a, c) = P.A.coeff(b[a], b[c]);
    } else if (use_gram) {
      for (Index a = 0; a < m; ++a) for (Index c = 0; c < m; ++c) H(a, c) = G(b[a] / K, b[c] / K);
    } else {
      // gather distinct feature columns into a dense n x q matrix
      std::vector<Index> feats(m);
      for (Index a = 0; a < m; ++a) feats[a] = b[a] / K;
      std::vector<Index> uf = feats;
      std::sort(uf.begin(), uf.end());
      uf.erase(std::unique(uf.begin(), uf.end()), uf.end());
      const Index q = static_cast<Index>(uf.size());
      MatrixXd Xb = MatrixXd::Zero(n, q);
      for (Index t = 0; t < q; ++t) for_col(uf[t], [&](Index i, double a) { Xb(i, t) = a; });
      auto fidx = [&](Index a) { return Index(std::lower_bound(uf.begin(), uf.end(), feats[a]) - uf.begin()); };
      if (!exact || P.loss == Loss::LeastSquares) {
        MatrixXd XtX = Xb.transpose() * Xb;
        for (Index a = 0; a < m; ++a)
          for (Index c = 0; c < m; ++c)
            if (K == 1 || b[a] % K == b[c] % K) H(a, c) = loss_scale() * XtX(fidx(a), fidx(c));
      } else if (P.loss == Loss::Logistic) {
        VectorXd w(n);
        for (Index i = 0; i < n; ++i) {
          double sg = sigmoid(P.y[i] * Z(i, 0));
          w[i] = sg * (1.0 - sg);
        }
        MatrixXd XtWX = Xb.transpose() * w.asDiagonal() * Xb;
        for (Index a = 0; a < m; ++a) for (Index c = 0; c < m; ++c) H(a, c) = XtWX(fidx(a), fidx(c));
      } else {
        // softmax: H[(j,c),(k,e)] = sum_i x_ij x_ik p_ic (delta_ce - p_ie)
        MatrixXd Pr = D + P.Y;  // probabilities
        for (Index a = 0; a < m; ++a) {
          const Index ca = b[a] % K;
          for (Index c = a; c < m; ++c) {
            const Index cc = b[c] % K;
            VectorXd w = (Pr.col(ca).array() * ((ca == cc ? 1.0 : 0.0) - Pr.col(cc).array())).matrix();
            double h = (Xb.col(fidx(a)).array() * Xb.col(fidx(c)).array() * w.array()).sum();
            H(a, c) = H(c, a) = h;
          }
        }
      }
    }
    for (Index a = 0; a < m; ++a) H(a, a) += P.l2[b[a]];
    return H;
  }

  double lambda_max(const MatrixXd& H) const {
    if (H.rows() == 1) return H(0, 0);
    Eigen::SelfAdjointEigenSolver<MatrixXd> es(H, Eigen::EigenvaluesOnly);
    return es.eigenvalues().maxCoeff();
  }

  // Hessian-bound-vector product for IHT (whole variable vector)
  VectorXd hess_bound_vec(const VectorXd& d) const {
    VectorXd out;
    if (quad) {
      out = P.A * d;
    } else {
      MatrixXd Dm(p, K);
      for (Index j = 0; j < p; ++j) for (Index c = 0; c < K; ++c) Dm(j, c) = d[j * K + c];
      MatrixXd XD = P.sparse ? MatrixXd(P.Xs * Dm) : MatrixXd(P.Xd * Dm);
      MatrixXd R = P.sparse ? MatrixXd(P.Xs.transpose() * XD) : MatrixXd(P.Xd.transpose() * XD);
      out.resize(nv);
      for (Index j = 0; j < p; ++j) for (Index c = 0; c < K; ++c) out[j * K + c] = loss_scale() * R(j, c);
    }
    out.array() += P.l2.array() * d.array();
    return out;
  }

  // ---------------- selection
  std::vector<Index> topk(const VectorXd& score, Index k) const {
    std::vector<Index> idx(nv);
    std::iota(idx.begin(), idx.end(), Index(0));
    k = std::min(k, nv);
    std::nth_element(idx.begin(), idx.begin() + (k - 1), idx.end(), [&](Index a, Index b) {
      return score[a] > score[b] || (score[a] == score[b] && a < b);
    });
    idx.resize(k);
    std::sort(idx.begin(), idx.end());
    return idx;
  }

  void select_fixed() {
    const Index nb = static_cast<Index>(parts.size());
    Index pick = 0;
    switch (o.rule) {
      case Rule::Cyclic: pick = it % nb; break;
      case Rule::Random: pick = std::uniform_int_distribution<Index>(0, nb - 1)(rng); break;
      case Rule::Lipschitz: {
        std::vector<double> w(nb);
        for (Index k = 0; k < nb; ++k) w[k] = block_L(k);
        pick = std::discrete_distribution<Index>(w.begin(), w.end())(rng);
        break;
      }
      default: {
        if (use_heap) { pick = score_tree.argmax(); break; }
        double best = -1.0;
        for (Index k = 0; k < nb; ++k) {
          const double sc = part_score(k);
          if (sc > best) { best = sc; pick = k; }
        }
      }
    }
    block = parts[pick];
    cur_part = pick;
  }
  Index cur_part = -1;
  bool forest_blocks() const { return o.blocks == Blocks::Tree; }

  double part_score(Index k) {
    double sc = 0.0;
    const auto& b = parts[k];
    if (o.rule == Rule::GS || o.rule == Rule::GSL) {
      for (Index v : b) sc += std::abs(s[v]);
      if (o.rule == Rule::GSL && sc > 0) sc /= std::sqrt(block_L(k));
    } else if (o.rule == Rule::GSD) {
      for (Index v : b) sc += std::abs(s[v]) / std::sqrt(Ldiag[v]);
    } else {  // GSQ: sqrt(s_b' H_b^-1 s_b)
      VectorXd sb(b.size());
      bool any = false;
      for (std::size_t a = 0; a < b.size(); ++a) { sb[a] = s[b[a]]; any |= sb[a] != 0; }
      if (any && forest_blocks())  // H_b^-1 s_b by message passing, O(|b|)
        sc = std::sqrt(std::max(0.0, sb.dot(tree_solve(P.A, b, sb))));
      else if (any)
        sc = std::sqrt(std::max(0.0, sb.dot(block_inv(k).solve(sb))));
    }
    return sc;
  }

  double block_L(Index k) {
    if (Lb[k] < 0) Lb[k] = lipschitz_of(parts[k]);
    return Lb[k];
  }
  // largest eigenvalue of the block's bound Hessian; for large sparse (graph) blocks the
  // Gershgorin bound max_i sum_j |A_ij| instead of a dense eigensolve (exact on red-black
  // colours, whose blocks are diagonal)
  double lipschitz_of(const std::vector<Index>& b) const {
    if (quad && b.size() > 256) {
      std::vector<char> in(nv, 0);
      for (Index v : b) in[v] = 1;
      double L = 0.0;
      for (Index v : b) {
        double r = P.l2[v];
        for (SpCol::InnerIterator itA(P.A, v); itA; ++itA)
          if (in[itA.row()]) r += std::abs(itA.value());
        L = std::max(L, r);
      }
      return L;
    }
    return lambda_max(block_hessian(b, false));
  }
  const Eigen::LDLT<MatrixXd>& block_inv(Index k) {
    if (!hinv_ready[k]) {
      MatrixXd H = block_hessian(parts[k], false);
      H.diagonal().array() += 1e-12 * (1.0 + H.diagonal().cwiseAbs().maxCoeff());
      Hinv[k].compute(H);
      hinv_ready[k] = 1;
    }
    return Hinv[k];
  }

  void select_variable() {
    const Index k = o.block_size;
    VectorXd sc(nv);
    switch (o.rule) {
      case Rule::Random: {
        std::vector<Index> idx(nv);
        std::iota(idx.begin(), idx.end(), Index(0));
        for (Index t = 0; t < k; ++t) {
          Index j = std::uniform_int_distribution<Index>(t, nv - 1)(rng);
          std::swap(idx[t], idx[j]);
        }
        idx.resize(k);
        std::sort(idx.begin(), idx.end());
        block = idx;
        return;
      }
      case Rule::Cyclic: {
        // a random permutation traversed in chunks, redrawn after each pass
        if (perm.empty() || perm_pos >= nv) {
          perm.resize(nv);
          std::iota(perm.begin(), perm.end(), Index(0));
          std::shuffle(perm.begin(), perm.end(), rng);
          perm_pos = 0;
        }
        Index e = std::min(nv, perm_pos + k);
        block.assign(perm.begin() + perm_pos, perm.begin() + e);
        perm_pos = e;
        std::sort(block.begin(), block.end());
        return;
      }
      case Rule::Lipschitz: {
        // sampling without replacement with probability proportional to L_i (Efraimidis-Spirakis)
        std::uniform_real_distribution<double> U(0.0, 1.0);
        for (Index v = 0; v < nv; ++v) sc[v] = std::log(std::max(U(rng), 1e-300)) / Ldiag[v];
        block = topk(sc, k);
        return;
      }
      case Rule::GS:
      case Rule::GSD:
      case Rule::GSL: {
        if (use_heap) {
          score_tree.topk(k, block, heap_buf);
          std::sort(block.begin(), block.end());
          return;
        }
        sc = s.cwiseAbs().cwiseQuotient(wsc);
        break;
      }
      case Rule::GSQ: sc = iht_scores(); break;
    }
    block = topk(sc, k);
  }

  void make_rowsum() {
    rowsum.resize(nv);
    if (quad) {
      for (Index v = 0; v < nv; ++v) {
        double r = 0.0;
        for (SpCol::InnerIterator itA(P.A, v); itA; ++itA) r += std::abs(itA.value());
        rowsum[v] = r;
      }
    } else {
      // sum_k |x_j' x_k| <= |X_j|' (|X| 1): a cheap bound on the Hessian row sums
      VectorXd rs = VectorXd::Zero(n);
      for (Index j = 0; j < p; ++j) for_col(j, [&](Index i, double a) { rs[i] += std::abs(a); });
      for (Index j = 0; j < p; ++j) {
        double r = 0.0;
        for_col(j, [&](Index i, double a) { r += std::abs(a) * rs[i]; });
        for (Index c = 0; c < K; ++c) rowsum[j * K + c] = loss_scale() * r;
      }
    }
    rowsum.array() += P.l2.array();
    for (Index v = 0; v < nv; ++v) if (rowsum[v] <= 0) rowsum[v] = 1e-12;
  }

  // GSQ for variable blocks: a few iterative-hard-thresholding steps on the quadratic model
  VectorXd iht_scores() {
    if (mu_iht < 0) {
      VectorXd v = VectorXd::Ones(nv) / std::sqrt(double(nv));
      double lam = 1.0;
      for (int t = 0; t < 30; ++t) {
        VectorXd w = hess_bound_vec(v);
        lam = w.norm();
        if (lam <= 0) break;
        v = w / lam;
      }
      mu_iht = 1.0 / std::max(lam * 1.01, 1e-300);
    }
    const Index k = o.block_size;
    VectorXd d = -s.cwiseQuotient(Ldiag.cwiseSqrt());
    auto keep = [&](VectorXd& dd) {
      std::vector<Index> sup = topk(dd.cwiseAbs(), k);
      VectorXd out = VectorXd::Zero(nv);
      for (Index v : sup) out[v] = dd[v];
      dd = out;
    };
    keep(d);
    for (int t = 0; t < 10; ++t) {
      VectorXd nd = d - mu_iht * (s + hess_bound_vec(d));
      keep(nd);
      d = nd;
    }
    // ties (zeros) are broken by |s| so the block is always filled
    VectorXd sc = d.cwiseAbs();
    double big = sc.maxCoeff() + 1.0;
    for (Index v = 0; v < nv; ++v) sc[v] = sc[v] > 0 ? big + sc[v] : std::abs(s[v]) / std::sqrt(Ldiag[v]);
    return sc;
  }

  void select_tree() {
    std::vector<Index> ord;
    ord.reserve(nv);
    if (o.rule == Rule::Random) {
      ord.resize(nv);
      std::iota(ord.begin(), ord.end(), Index(0));
      std::shuffle(ord.begin(), ord.end(), rng);
    } else {
      std::vector<double> sc(nv);
      for (Index v = 0; v < nv; ++v) {
        sc[v] = std::abs(s[v]);
        if (o.rule != Rule::GS) sc[v] /= std::sqrt(Ldiag[v]);
        if (sc[v] > 0) ord.push_back(v);
      }
      std::sort(ord.begin(), ord.end(), [&](Index a, Index b) { return sc[a] > sc[b]; });
      if (ord.empty()) ord.push_back(0);
    }
    // grow a forest: add v if its selected neighbours lie in distinct trees
    UnionFind uf(nv);
    std::vector<char> in(nv, 0);
    block.clear();
    std::vector<Index> roots;
    for (Index v : ord) {
      if ((Index)block.size() >= o.block_size) break;
      roots.clear();
      bool ok = true;
      for (SpCol::InnerIterator itA(P.A, v); itA; ++itA) {
        Index u = itA.row();
        if (u == v || !in[u] || itA.value() == 0.0) continue;
        Index r = uf.find(u);
        if (std::find(roots.begin(), roots.end(), r) != roots.end()) { ok = false; break; }
        roots.push_back(r);
      }
      if (!ok) continue;
      in[v] = 1;
      for (Index r : roots) uf.parent[r] = v;
      block.push_back(v);
    }
    std::sort(block.begin(), block.end());
  }

  // ---------------- block subproblem: min g'd + 1/2 d'Hd + sum l1|x+d|, x+d >= 0 (if nonneg)
  VectorXd prox_quad(const MatrixXd& H, const VectorXd& gb, const VectorXd& xb, const VectorXd& lam) const {
    const Index m = gb.size();
    VectorXd d = VectorXd::Zero(m), Hd = VectorXd::Zero(m);
    const double scale = gb.cwiseAbs().maxCoeff() + lam.maxCoeff() + 1e-300;
    for (int sweep = 0; sweep < 500; ++sweep) {
      double mx = 0.0;
      for (Index a = 0; a < m; ++a) {
        double h = H(a, a);
        if (h <= 0) continue;
        double grad = gb[a] + Hd[a];
        double z = xb[a] + d[a];
        double nz = soft_threshold(z - grad / h, lam[a] / h);
        if (P.nonneg && nz < 0) nz = 0;
        double delta = nz - z;
        if (delta != 0.0) {
          d[a] += delta;
          Hd += delta * H.col(a);
          mx = std::max(mx, std::abs(delta) * h);
        }
      }
      if (mx <= 1e-14 * scale) break;
    }
    return d;
  }

  // ---------------- apply step d on block b; updates x, Z/D, g
  void mark(Index v) {
    if (inc && !chmark[v]) { chmark[v] = 1; changed.push_back(v); }
  }
  static double logistic_row_loss(double yi, double zi) {
    const double m = -yi * zi;
    return softplus(m);
  }
  double softmax_row_loss(Index i) const {
    const double mx = Z.row(i).maxCoeff();
    return mx + std::log((Z.row(i).array() - mx).exp().sum()) - Z.row(i).dot(P.Y.row(i));
  }
  double row_loss(Index i) const {
    if (P.loss == Loss::LeastSquares) { const double r = Z(i, 0) - P.y[i]; return 0.5 * r * r; }
    if (P.loss == Loss::Logistic) return logistic_row_loss(P.y[i], Z(i, 0));
    return softmax_row_loss(i);
  }

  // Apply step d on block b: updates x, Z/D, g, fval, and records the changed variables.
  void apply(const std::vector<Index>& b, const VectorXd& d) {
    const Index m = static_cast<Index>(b.size());
    double dl1 = 0.0;
    VectorXd gold(m);
    for (Index a = 0; a < m; ++a) {
      gold[a] = g[b[a]];
      dl1 += P.l1[b[a]] * (std::abs(x[b[a]] + d[a]) - std::abs(x[b[a]]));
    }
    const bool quadratic = quad || P.loss == Loss::LeastSquares;
    double dsmooth = 0.0;
    all_changed = !inc;
    if (quad) {
      for (Index a = 0; a < m; ++a) {
        if (d[a] == 0.0) continue;
        x[b[a]] += d[a];
        for (SpCol::InnerIterator itA(P.A, b[a]); itA; ++itA) {
          g[itA.row()] += itA.value() * d[a];
          mark(itA.row());
        }
        g[b[a]] += P.l2[b[a]] * d[a];
        mark(b[a]);
      }
    } else {
      std::vector<Index> rows;
      const bool track_rows = P.sparse && !use_gram;
      for (Index a = 0; a < m; ++a) {
        if (d[a] == 0.0) continue;
        const Index v = b[a], j = v / K, c = v % K;
        x[v] += d[a];
        for_col(j, [&](Index i, double val) {
          if (track_rows && !rowmark[i]) {
            rowmark[i] = 1;
            rows.push_back(i);
            if (!quadratic) row_old.push_back(row_loss(i));
          }
          Z(i, c) += val * d[a];
        });
      }
      if (use_gram) {
        for (Index a = 0; a < m; ++a) if (d[a] != 0.0) g += G.col(b[a]) * d[a];
        D.col(0) = Z.col(0) - P.y;
        for (Index a = 0; a < m; ++a) g[b[a]] += P.l2[b[a]] * d[a];
      } else if (P.sparse) {
        // only the touched rows change their loss derivative: g += X_R' (D_new - D_old)_R
        for (std::size_t t = 0; t < rows.size(); ++t) {
          const Index i = rows[t];
          Eigen::RowVectorXd old = D.row(i);
          if (P.loss == Loss::LeastSquares) D(i, 0) = Z(i, 0) - P.y[i];
          else if (P.loss == Loss::Logistic) D(i, 0) = -P.y[i] * sigmoid(-P.y[i] * Z(i, 0));
          else softmax_row(i);
          if (!quadratic) dsmooth += row_loss(i) - row_old[t];
          Eigen::RowVectorXd dd = D.row(i) - old;
          for (Eigen::SparseMatrix<double, Eigen::RowMajor>::InnerIterator itr(P.Xr, i); itr; ++itr)
            for (Index c = 0; c < K; ++c) {
              g[itr.col() * K + c] += itr.value() * dd[c];
              if (inc) mark(itr.col() * K + c);
            }
          rowmark[i] = 0;
        }
        row_old.clear();
        for (Index a = 0; a < m; ++a) {
          const Index v = b[a];
          g[v] += P.l2[v] * d[a];
          if (!quadratic) { const double xo = x[v] - d[a]; dsmooth += 0.5 * P.l2[v] * (x[v] * x[v] - xo * xo); }
          if (inc) mark(v);
        }
      } else {
        compute_D_rows_all();
        full_gradient();
      }
    }
    if (quadratic) {
      // f is quadratic, g affine: f(x + d) - f(x) = d'(g(x) + g(x + d)) / 2 exactly
      for (Index a = 0; a < m; ++a) dsmooth += 0.5 * d[a] * (gold[a] + g[b[a]]);
      fval += dsmooth + dl1;
    } else if (P.sparse) {
      fval += dsmooth + dl1;
    } else {
      fval = objective();
    }
  }

  // After an update: the minimum-norm subgradient, the optimality measure and the greedy scores
  // of the changed variables (everything when the update changed everything).
  void refresh_after_update() {
    if (all_changed) {
      refresh_s();
      if (inc) build_trees();
      return;
    }
    const bool rebuild = double(changed.size()) * std::log2(double(nv) + 1.0) > double(nv);
    for (Index v : changed) {
      s[v] = min_norm_sub(x[v], g[v], P.l1[v], P.nonneg);
      if (!rebuild) opt_tree.set(v, std::abs(s[v]));
      if (use_heap && !parts.empty()) {
        const Index k = part_of[v];
        if (!partmark[k]) { partmark[k] = 1; dirty_parts.push_back(k); }
      } else if (use_heap && !rebuild) {
        score_tree.set(v, std::abs(s[v]) / wsc[v]);
      }
      chmark[v] = 0;
    }
    changed.clear();
    if (rebuild) {
      opt_tree.build(nv, [&](Index v) { return std::abs(s[v]); });
      if (use_heap && parts.empty()) score_tree.build(nv, [&](Index v) { return std::abs(s[v]) / wsc[v]; });
    }
    for (Index k : dirty_parts) { score_tree.set(k, part_score(k)); partmark[k] = 0; }
    dirty_parts.clear();
    opt = opt_tree.max();
  }

  void build_trees() {
    for (Index v : changed) chmark[v] = 0;
    changed.clear();
    opt_tree.build(nv, [&](Index v) { return std::abs(s[v]); });
    opt = opt_tree.max();
    if (!use_heap) return;
    if (parts.empty()) score_tree.build(nv, [&](Index v) { return std::abs(s[v]) / wsc[v]; });
    else score_tree.build(static_cast<Index>(parts.size()), [&](Index k) { return part_score(k); });
  }

  // Called at the end of setup(): which bookkeeping this problem gets.
  void setup_incremental() {
    const bool greedy = o.rule == Rule::GS || o.rule == Rule::GSL || o.rule == Rule::GSD ||
                        o.rule == Rule::GSQ;
    // sparse problems change few gradient entries per update; dense least squares (Gram) and
    // dense logistic/softmax change all of them, where a scan (nth_element) is as cheap
    const bool sparse_grad = quad || (P.sparse && !use_gram);
    if (o.priority == 1) require(sparse_grad, "priority=1 needs a sparse problem (incremental gradients)");
    // expected number of gradient entries one update changes; the trees pay O(log n) for each,
    // a scan O(n) in all, so they are used (priority=-1) only when changed * log2(n) <= n
    const double bs = parts.empty() ? double(o.block_size) : double(nv) / double(parts.size());
    double est = double(nv);
    if (quad) est = bs * double(P.A.nonZeros()) / double(nv);
    else if (sparse_grad) {
      const double nnz = double(P.Xs.nonZeros());
      est = bs * (nnz / double(std::max<Index>(p, 1))) * (nnz / double(std::max<Index>(n, 1))) * double(K);
    }
    const bool cheap = est * std::log2(double(nv) + 1.0) <= double(nv);
    inc = sparse_grad && (o.priority == 1 || (o.priority == -1 && cheap));
    const bool flat_greedy = o.blocks == Blocks::Variable && greedy && o.rule != Rule::GSQ;
    const bool part_greedy = !parts.empty() && greedy;
    use_heap = inc && (flat_greedy || part_greedy);
    if (!P.sparse || use_gram) rowmark.clear(); else rowmark.assign(n, 0);
    if (o.blocks == Blocks::Variable && greedy && o.rule != Rule::GSQ) {
      if (o.rule == Rule::GS) wsc = VectorXd::Ones(nv);
      else if (o.rule == Rule::GSD) wsc = Ldiag.cwiseSqrt();
      else { make_rowsum(); wsc = rowsum.cwiseSqrt(); }
    }
    if (!inc) return;
    chmark.assign(nv, 0);
    if (part_greedy) {
      part_of.assign(nv, 0);
      for (Index k = 0; k < (Index)parts.size(); ++k) for (Index v : parts[k]) part_of[v] = k;
      partmark.assign(parts.size(), 0);
    }
    build_trees();
  }

  double composite_block(const std::vector<Index>& b) const {
    double r = 0.0;
    for (Index v : b) r += P.l1[v] * std::abs(x[v]);
    return r;
  }

  // f(x + d on block b) - f(x), smooth part plus L1 (exact; O(|b|^2) for quadratics, O(nK)
  // through the linear predictor otherwise).
  double block_delta_f(const std::vector<Index>& b, const VectorXd& gb, const VectorXd& xb,
                       const VectorXd& lam, const VectorXd& d, const MatrixXd* Hq) const {
    const Index m = static_cast<Index>(b.size());
    double dl1 = 0.0;
    for (Index a = 0; a < m; ++a) dl1 += lam[a] * (std::abs(xb[a] + d[a]) - std::abs(xb[a]));
    if (Hq) return gb.dot(d) + 0.5 * d.dot(*Hq * d) + dl1;
    MatrixXd Zt = Z;
    double dl2 = 0.0;
    for (Index a = 0; a < m; ++a) {
      if (d[a] == 0.0) continue;
      const Index v = b[a], j = v / K, c = v % K;
      for_col(j, [&](Index i, double val) { Zt(i, c) += val * d[a]; });
      const double xn = xb[a] + d[a];
      dl2 += 0.5 * P.l2[v] * (xn * xn - xb[a] * xb[a]);
    }
    return smooth_from_Z(Zt) - smooth_from_Z(Z) + dl2 + dl1;
  }

  // Two-metric projection (Bertsekas 1982; the reference code's "TMP-NN") for x >= 0, where the
  // L1 term is linear: G = g + lambda. Coordinates at (or within eps of) the bound whose gradient
  // pushes outward get a scaled-gradient step G_i / sum_{active} L_i; the others a Newton step
  // with the true block Hessian; x_b(t) = max(0, x_b + t dir) with Armijo backtracking.
  VectorXd two_metric_step(const std::vector<Index>& b, const VectorXd& gb, const VectorXd& xb,
                           const VectorXd& lam) {
    const Index m = static_cast<Index>(b.size());
    const VectorXd G = gb + lam;
    // eps_k = min(1e-4, ||x - P(x - G/L)||): Bertsekas' rule, so that the active set shrinks to
    // the exact one near a solution (the reference code uses a fixed 1e-4)
    double w = 0.0;
    for (Index a = 0; a < m; ++a)
      w = std::max(w, std::abs(xb[a] - std::max(0.0, xb[a] - G[a] / Ldiag[b[a]])));
    const double eps = std::min(1e-4, w);
    std::vector<Index> act, wrk;
    double Lsum = 0.0;
    for (Index a = 0; a < m; ++a) {
      if (xb[a] <= eps && G[a] > 0) { act.push_back(a); Lsum += Ldiag[b[a]]; }
      else wrk.push_back(a);
    }
    VectorXd dir = VectorXd::Zero(m);
    for (Index a : act) dir[a] = -G[a] / Lsum;
    const bool quadratic = quad || P.loss == Loss::LeastSquares;
    MatrixXd H = block_hessian(b, true);
    if (!wrk.empty()) {
      const Index q = static_cast<Index>(wrk.size());
      MatrixXd Hw(q, q);
      VectorXd Gw(q);
      for (Index r = 0; r < q; ++r) {
        Gw[r] = G[wrk[r]];
        for (Index c = 0; c < q; ++c) Hw(r, c) = H(wrk[r], wrk[c]);
      }
      Hw.diagonal().array() += 1e-12 * (1.0 + Hw.diagonal().cwiseAbs().maxCoeff());
      VectorXd dw = -Hw.ldlt().solve(Gw);
      for (Index r = 0; r < q; ++r) dir[wrk[r]] = dw[r];
    }
    auto fallback = [&]() {
      MatrixXd Hb = quadratic ? H : block_hessian(b, false);
      return prox_quad(Hb, gb, xb, lam);
    };
    if (!dir.allFinite()) return fallback();
    VectorXd d(m);
    double t = 1.0;
    for (int ls = 0; ls < 60; ++ls, t *= 0.5) {
      for (Index a = 0; a < m; ++a) d[a] = std::max(0.0, xb[a] + t * dir[a]) - xb[a];
      const double pred = G.dot(d);  // < 0 for a descent step along the projection arc
      if (!(pred < 0)) break;
      const double df = block_delta_f(b, gb, xb, lam, d, quadratic ? &H : nullptr);
      if (df <= 1e-4 * pred) return d;
      // below the rounding of f the test is noise; the full step is safe for a quadratic
      if (quadratic && t == 1.0 && df <= 1e-13 * (1.0 + std::abs(fval))) return d;
    }
    return fallback();
  }

  void update_block() {
    const auto& b = block;
    const Index m = static_cast<Index>(b.size());
    VectorXd gb(m), xb(m), lam(m);
    for (Index a = 0; a < m; ++a) { gb[a] = g[b[a]]; xb[a] = x[b[a]]; lam[a] = P.l1[b[a]]; }
    VectorXd d;
    Update up = o.update;
    if (P.nonneg && up == Update::Newton) {  // the paper's two-metric projection ("TMP-NN")
      apply(b, two_metric_step(b, gb, xb, lam));
      return;
    }
    if (quad && up == Update::Newton) up = Update::Lipschitz;  // exact Hessian = bound
    if (P.loss == Loss::LeastSquares && up == Update::Newton) up = Update::Lipschitz;
    switch (up) {
      case Update::MessagePassing: {
        d = tree_solve(P.A, b, -gb);
        break;
      }
      case Update::Gradient: {
        double L;
        if (parts.empty()) L = lipschitz_of(b);
        else L = block_L(cur_part);
        L = std::max(L, 1e-300);
        d.resize(m);
        for (Index a = 0; a < m; ++a) {
          double z = soft_threshold(xb[a] - gb[a] / L, lam[a] / L);
          if (P.nonneg && z < 0) z = 0;
          d[a] = z - xb[a];
        }
        break;
      }
      case Update::Lipschitz: {
        const bool cached = !parts.empty();
        if (!prox && forest_blocks()) {
          // the block minimiser of a quadratic on a forest: message passing gives it in O(|b|)
          d = tree_solve(P.A, b, -gb);
        } else if (!prox) {
          if (cached) d = -block_inv(cur_part).solve(gb);
          else {
            MatrixXd H = block_hessian(b, false);
            H.diagonal().array() += 1e-12 * (1.0 + H.diagonal().cwiseAbs().maxCoeff());
            d = -H.ldlt().solve(gb);
          }
        } else {
          d = prox_quad(block_hessian(b, false), gb, xb, lam);
        }
        break;
      }
      case Update::Newton: {
        MatrixXd H = block_hessian(b, true);
        H.diagonal().array() += 1e-12 * (1.0 + H.diagonal().cwiseAbs().maxCoeff());
        if (!prox) d = -H.ldlt().solve(gb);
        else d = prox_quad(H, gb, xb, lam);
        // backtracking (Tseng-Yun) on the composite objective along d
        double old_l1 = composite_block(b);
        double new_l1 = 0.0;
        for (Index a = 0; a < m; ++a) new_l1 += lam[a] * std::abs(xb[a] + d[a]);
        double delta = gb.dot(d) + new_l1 - old_l1;
        // no Newton descent (rounding near the optimum, or a flat direction): fall back on the
        // step with the Lipschitz matrix, which always decreases the objective
        auto fallback = [&]() {
          MatrixXd Hb = block_hessian(b, false);
          Hb.diagonal().array() += 1e-12 * (1.0 + Hb.diagonal().cwiseAbs().maxCoeff());
          return prox ? prox_quad(Hb, gb, xb, lam) : VectorXd(-Hb.ldlt().solve(gb));
        };
        if (delta >= 0) { d = fallback(); break; }
        double t = 1.0;
        MatrixXd Zt;
        for (int ls = 0; ls < 50; ++ls) {
          Zt = Z;
          double l2t = 0.0, l1t = 0.0;
          for (Index a = 0; a < m; ++a) {
            const Index v = b[a], j = v / K, c = v % K;
            double step = t * d[a];
            for_col(j, [&](Index i, double val) { Zt(i, c) += val * step; });
            double xn = xb[a] + step;
            l2t += 0.5 * P.l2[v] * (xn * xn - xb[a] * xb[a]);
            l1t += lam[a] * (std::abs(xn) - std::abs(xb[a]));
          }
          double fn = smooth_from_Z(Zt) + l2t + l1t;
          double fo = smooth_from_Z(Z);
          if (fn <= fo + 1e-4 * t * delta) break;
          // below rounding of f the test is noise; near the optimum the full step is safe
          if (t == 1.0 && -delta < 1e-13 * (1.0 + std::abs(fo))) break;
          t *= 0.5;
          if (ls == 49) t = 0.0;
        }
        if (t == 0.0) d = fallback();
        else d *= t;
        break;
      }
    }
    apply(b, d);
  }

  Index run(Index iters) {
    Index done = 0;
    // Ctrl-C: the hook is polled at most every ~20 ms (a clock read per iteration otherwise)
    InterruptCheck check(1.0);
    // a non-finite objective or optimality measure (an overflowing loss) ends the run: the
    // caller reports it instead of iterating on NaN
    while (done < iters && !conv && std::isfinite(fval) && std::isfinite(opt)) {
      check();
      auto ts = std::chrono::steady_clock::now();
      if (o.blocks == Blocks::Variable) select_variable();
      else if (o.blocks == Blocks::Tree && o.tree == TreeKind::Grow) select_tree();
      else select_fixed();
      update_block();
      if (inc) refresh_after_update();
      else refresh_s();
      ++it;
      ++done;
      elapsed += std::chrono::duration<double>(std::chrono::steady_clock::now() - ts).count();
      hf.push_back(fval);
      ho.push_back(opt);
      ht.push_back(elapsed);
      conv = opt <= o.tol;
    }
    // the objective is tracked incrementally; re-evaluate it once so fun() carries no drift
    if (done > 0) fval = objective();
    return done;
  }
};

namespace {
// BCD is sequential and its products are small: Eigen's OpenMP GEMM only adds thread start-up
// and, on a busy machine, spin-waiting (measured 100x slower set-up). Run single-threaded.
struct SingleThreadEigen {
  int old;
  SingleThreadEigen() : old(Eigen::nbThreads()) { Eigen::setNbThreads(1); }
  ~SingleThreadEigen() { Eigen::setNbThreads(old); }
};
}  // namespace

Solver::Solver(ProblemData data, Options opts) : p_(std::make_unique<Impl>(std::move(data), opts)) {
  SingleThreadEigen guard;
  p_->setup();
}
Solver::~Solver() = default;
Index Solver::run(Index iters) {
  SingleThreadEigen guard;
  return p_->run(iters);
}
const Eigen::VectorXd& Solver::x() const { return p_->x; }
double Solver::fun() const { return p_->fval; }
double Solver::optimality() const { return p_->opt; }
Index Solver::nit() const { return p_->it; }
bool Solver::converged() const { return p_->conv; }
const std::vector<double>& Solver::hist_fun() const { return p_->hf; }
const std::vector<double>& Solver::hist_opt() const { return p_->ho; }
const std::vector<double>& Solver::hist_time() const { return p_->ht; }
const std::vector<Index>& Solver::last_block() const { return p_->block; }
const std::vector<std::vector<Index>>& Solver::partition() const { return p_->parts; }
bool Solver::uses_priority() const { return p_->use_heap; }

}  // namespace adasolve::bcd
