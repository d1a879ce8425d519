// BCD engine: objective, gradient and curvature of each loss (least squares, logistic, softmax,
// the quadratic of label propagation): block Hessians, Lipschitz bounds, exact objective changes.
#include "engine.hpp"
#include <Eigen/Eigenvalues>

namespace adasolve::bcd {

void Solver::Impl::compute_D_rows_all() {
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

void Solver::Impl::softmax_row(Index i) {
  double mx = Z.row(i).maxCoeff(), sum = 0.0;
  for (Index c = 0; c < K; ++c) { D(i, c) = std::exp(Z(i, c) - mx); sum += D(i, c); }
  for (Index c = 0; c < K; ++c) D(i, c) = D(i, c) / sum - P.Y(i, c);
}

double Solver::Impl::smooth_from_Z(const MatrixXd& Zm) const {
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

double Solver::Impl::objective() const {
  double f;
  if (quad) f = 0.5 * x.dot(P.A * x) - P.b.dot(x);
  else f = smooth_from_Z(Z);
  f += 0.5 * (P.l2.array() * x.array().square()).sum();
  f += (P.l1.array() * x.array().abs()).sum();
  return f;
}

void Solver::Impl::full_gradient() {
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

double Solver::Impl::logistic_row_loss(double yi, double zi) {
  const double m = -yi * zi;
  return softplus(m);
}

double Solver::Impl::softmax_row_loss(Index i) const {
  const double mx = Z.row(i).maxCoeff();
  return mx + std::log((Z.row(i).array() - mx).exp().sum()) - Z.row(i).dot(P.Y.row(i));
}

double Solver::Impl::row_loss(Index i) const {
  if (P.loss == Loss::LeastSquares) { const double r = Z(i, 0) - P.y[i]; return 0.5 * r * r; }
  if (P.loss == Loss::Logistic) return logistic_row_loss(P.y[i], Z(i, 0));
  return softmax_row_loss(i);
}

MatrixXd Solver::Impl::block_hessian(const std::vector<Index>& b, bool exact) const {
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

double Solver::Impl::lambda_max(const MatrixXd& H) const {
  if (H.rows() == 1) return H(0, 0);
  Eigen::SelfAdjointEigenSolver<MatrixXd> es(H, Eigen::EigenvaluesOnly);
  return es.eigenvalues().maxCoeff();
}

VectorXd Solver::Impl::hess_bound_vec(const VectorXd& d) const {
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

double Solver::Impl::lipschitz_of(const std::vector<Index>& b) const {
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

void Solver::Impl::make_rowsum() {
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

double Solver::Impl::block_delta_f(const std::vector<Index>& b, const VectorXd& gb, const VectorXd& xb,
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

}  // namespace adasolve::bcd
