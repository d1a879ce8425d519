// BCD engine: exact solves of A_bb d = r on forest blocks, by Gaussian elimination along the
// trees (tree_solve) and by Gaussian belief propagation (gabp_solve).
#include "engine.hpp"

#include <unordered_map>

namespace adasolve::bcd {

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

}  // namespace adasolve::bcd
