// BCD engine: block updates (gradient step, Lipschitz-matrix step, Newton with backtracking,
// two-metric projection, exact solves on forests) and their application to the state.
#include "engine.hpp"

namespace adasolve::bcd {

VectorXd Solver::Impl::prox_quad(const MatrixXd& H, const VectorXd& gb, const VectorXd& xb, const VectorXd& lam) const {
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

void Solver::Impl::apply(const std::vector<Index>& b, const VectorXd& d) {
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

double Solver::Impl::composite_block(const std::vector<Index>& b) const {
  double r = 0.0;
  for (Index v : b) r += P.l1[v] * std::abs(x[v]);
  return r;
}

VectorXd Solver::Impl::two_metric_step(const std::vector<Index>& b, const VectorXd& gb, const VectorXd& xb,
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

void Solver::Impl::update_block() {
  const auto& b = block;
  const Index m = static_cast<Index>(b.size());
  VectorXd gb(m), xb(m), lam(m);
  for (Index a = 0; a < m; ++a) { gb[a] = g[b[a]]; xb[a] = x[b[a]]; lam[a] = P.l1[b[a]]; }
  VectorXd d;
  // the step was chosen once, by plan()
  switch (step) {
    case Step::TwoMetric: {  // the paper's two-metric projection ("TMP-NN")
      d = two_metric_step(b, gb, xb, lam);
      break;
    }
    case Step::MessagePassing: {  // exact block minimiser on a forest, O(|b|)
      d = tree_solve(P.A, b, -gb);
      break;
    }
    case Step::Gradient: {
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
    case Step::LipschitzMatrix: {
      const bool cached = !parts.empty();
      if (!prox) {
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
    case Step::Newton: {
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

}  // namespace adasolve::bcd
