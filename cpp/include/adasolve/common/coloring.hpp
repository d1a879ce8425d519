// Greedy graph colouring shared by the families (multicolour SOR on CPU and GPU, BCD's
// red-black blocks). Header-only: the graph is any callable that lists a vertex's neighbours.
#pragma once

#include <cstdint>
#include <vector>

#include "adasolve/common.hpp"

namespace adasolve {

enum class ColourRule {
  first_fit,   // the smallest colour no coloured neighbour has (fewest colours in practice)
  least_used,  // among the free colours, the one used least so far (balanced colour classes)
};

// Colour the vertices in the order given: each takes a colour that none of its already
// coloured neighbours has, chosen by `rule`, and a new colour when none is free.
// `neighbours(v, f)` must call f(w) for every neighbour w of v (self-loops are ignored).
// Returns colour[v] in 0..ncolours-1.
template <class Neighbours>
std::vector<Index> greedy_colouring(const std::vector<Index>& order, Index n,
                                    Neighbours&& neighbours,
                                    ColourRule rule = ColourRule::first_fit) {
  std::vector<Index> colour(n, -1);
  std::vector<Index> mark;  // mark[c] == v: colour c is taken by a neighbour of v
  std::vector<Index> used;  // vertices per colour
  for (Index v : order) {
    neighbours(v, [&](Index w) {
      const Index c = colour[w];
      if (c >= 0 && w != v) mark[c] = v;
    });
    const Index ncol = static_cast<Index>(used.size());
    Index best = -1;
    for (Index c = 0; c < ncol; ++c) {
      if (mark[c] == v) continue;
      if (rule == ColourRule::first_fit) {
        best = c;
        break;
      }
      if (best < 0 || used[c] < used[best]) best = c;
    }
    if (best < 0) {
      best = ncol;
      used.push_back(0);
      mark.push_back(-1);
    }
    colour[v] = best;
    ++used[best];
  }
  return colour;
}

// The symmetrized pattern of a CSR matrix as adjacency lists: i ~ j when a_ij or a_ji is
// stored and i != j (a colour class must avoid both directions for an exact SOR sweep).
struct Adjacency {
  std::vector<Index> ptr, adj;
  template <class F>
  void operator()(Index v, F&& f) const {
    for (Index t = ptr[v]; t < ptr[v + 1]; ++t) f(adj[t]);
  }
};

template <class Idx>
Adjacency symmetric_pattern(Index n, const Idx* indptr, const Idx* indices) {
  Adjacency g;
  g.ptr.assign(n + 1, 0);
  for (Index i = 0; i < n; ++i)
    for (Idx k = indptr[i]; k < indptr[i + 1]; ++k) {
      const Index j = indices[k];
      if (j != i) {
        ++g.ptr[i + 1];
        ++g.ptr[j + 1];
      }
    }
  for (Index i = 0; i < n; ++i) g.ptr[i + 1] += g.ptr[i];
  g.adj.resize(g.ptr[n]);
  std::vector<Index> fill(g.ptr.begin(), g.ptr.end() - 1);
  for (Index i = 0; i < n; ++i)
    for (Idx k = indptr[i]; k < indptr[i + 1]; ++k) {
      const Index j = indices[k];
      if (j != i) {
        g.adj[fill[i]++] = j;
        g.adj[fill[j]++] = i;
      }
    }
  return g;
}

}  // namespace adasolve
