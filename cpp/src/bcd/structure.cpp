// BCD engine: block structure. Fixed partitions (contiguous, sorted, random), and on graphs the
// red-black colouring, the partition into forests and forests grown each iteration.
#include "engine.hpp"
#include "adasolve/common/coloring.hpp"

namespace adasolve::bcd {

std::vector<Index> Solver::Impl::order_by_L() const {
  // the reference code visits nodes by decreasing Lipschitz constant
  std::vector<Index> ord(nv);
  std::iota(ord.begin(), ord.end(), Index(0));
  std::stable_sort(ord.begin(), ord.end(), [&](Index a, Index b) { return Ldiag[a] > Ldiag[b]; });
  return ord;
}

std::vector<std::vector<Index>> Solver::Impl::red_black() const {
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

std::vector<std::vector<Index>> Solver::Impl::forest_partition() const {
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

void Solver::Impl::make_partition() {
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

double Solver::Impl::block_L(Index k) {
  if (Lb[k] < 0) Lb[k] = lipschitz_of(parts[k]);
  return Lb[k];
}

const Eigen::LDLT<MatrixXd>& Solver::Impl::block_inv(Index k) {
  if (!hinv_ready[k]) {
    MatrixXd H = block_hessian(parts[k], false);
    H.diagonal().array() += 1e-12 * (1.0 + H.diagonal().cwiseAbs().maxCoeff());
    Hinv[k].compute(H);
    hinv_ready[k] = 1;
  }
  return Hinv[k];
}

void Solver::Impl::select_tree() {
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

}  // namespace adasolve::bcd
