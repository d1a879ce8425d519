// BCD engine: setup, the optimality measure, the iteration loop and the public Solver API.
// See bcd.hpp for the problem conventions and engine.hpp for how the engine is split.
#include "engine.hpp"

namespace adasolve::bcd {

Blocks resolve_blocks(Blocks blocks, Rule rule) {
  if (blocks != Blocks::Auto) return blocks;
  const bool greedy_flat = rule == Rule::GS || rule == Rule::GSL || rule == Rule::GSD;
  return greedy_flat ? Blocks::Variable : Blocks::Sorted;
}

void check_combination(const ProblemData& P, const Options& o) {
  require(o.blocks != Blocks::Auto, "check_combination: resolve blocks=Auto first (resolve_blocks)");
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
    require(o.tree == TreeKind::Grow, "tree='red-black' or tree='partition' needs blocks='tree'");
  }
}

// ------------------------------------------------------------------------------------------
void Solver::Impl::refresh_s() {
  opt = 0.0;
  for (Index v = 0; v < nv; ++v) {
    s[v] = min_norm_sub(x[v], g[v], P.l1[v], P.nonneg);
    opt = std::max(opt, std::abs(s[v]));
  }
}

void Solver::Impl::plan() {
  o.blocks = resolve_blocks(o.blocks, o.rule);
  check_combination(P, o);
  if (o.blocks == Blocks::Variable) select = Select::Variable;
  else if (o.blocks == Blocks::Tree && o.tree == TreeKind::Grow) select = Select::GrowForest;
  else select = Select::Partition;
  // the true Hessian of a quadratic (and of least squares) is its Lipschitz matrix, so Newton
  // is the Lipschitz-matrix step there; on forest blocks without L1 that step is an exact solve
  // by message passing; Newton with non-negativity is the paper's two-metric projection
  const bool hessian_is_bound = quad || P.loss == Loss::LeastSquares;
  switch (o.update) {
    case Update::Gradient: step = Step::Gradient; break;
    case Update::MessagePassing: step = Step::MessagePassing; break;
    case Update::Newton:
      if (P.nonneg) { step = Step::TwoMetric; break; }
      if (!hessian_is_bound) { step = Step::Newton; break; }
      [[fallthrough]];
    case Update::Lipschitz:
      step = !prox && o.blocks == Blocks::Tree ? Step::MessagePassing : Step::LipschitzMatrix;
      break;
  }
}

void Solver::Impl::setup() {
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
  plan();
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

Index Solver::Impl::run(Index iters) {
  Index done = 0;
  // Ctrl-C: the hook is polled at most every ~20 ms (a clock read per iteration otherwise)
  InterruptCheck check(1.0);
  // a non-finite objective or optimality measure (an overflowing loss) ends the run: the
  // caller reports it instead of iterating on NaN
  while (done < iters && !conv && std::isfinite(fval) && std::isfinite(opt)) {
    check();
    auto ts = std::chrono::steady_clock::now();
    switch (select) {
      case Select::Variable: select_variable(); break;
      case Select::GrowForest: select_tree(); break;
      case Select::Partition: select_fixed(); break;
    }
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
const Options& Solver::options() const { return p_->o; }

}  // namespace adasolve::bcd
