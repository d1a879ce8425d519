// BCD engine: selection rules (cyclic, random, Lipschitz sampling, GS / GSL / GSD / GSQ) on fixed
// partitions and variable blocks, with the tournament trees that keep greedy selection
// proportional to the number of scores an update changes.
#include "engine.hpp"

namespace adasolve::bcd {

std::vector<Index> Solver::Impl::topk(const VectorXd& score, Index k) const {
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

void Solver::Impl::select_fixed() {
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

double Solver::Impl::part_score(Index k) {
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

void Solver::Impl::select_variable() {
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

VectorXd Solver::Impl::iht_scores() {
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

void Solver::Impl::setup_incremental() {
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

void Solver::Impl::refresh_after_update() {
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

void Solver::Impl::build_trees() {
  for (Index v : changed) chmark[v] = 0;
  changed.clear();
  opt_tree.build(nv, [&](Index v) { return std::abs(s[v]); });
  opt = opt_tree.max();
  if (!use_heap) return;
  if (parts.empty()) score_tree.build(nv, [&](Index v) { return std::abs(s[v]) / wsc[v]; });
  else score_tree.build(static_cast<Index>(parts.size()), [&](Index k) { return part_score(k); });
}

}  // namespace adasolve::bcd
