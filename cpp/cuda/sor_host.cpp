// Host half of the GPU SOR plan, built with the CPU library (adasolve_cpp): the GPU kernels
// relax the colours of the same greedy colouring as the CPU multicolour kernels, and A is
// checked (indices, NaN/Inf values, zero or missing diagonal) by the same code, in the same
// one pass that computes the inverse diagonal. Compiled by the host compiler: no CUDA here,
// and nvcc never sees Eigen (included by the CPU headers).
#include <cstring>
#include <stdexcept>
#include <vector>

#include "adasolve/common.hpp"
#include "adasolve/sor.hpp"
#include "adasolve_cuda.hpp"

namespace adasolve::cuda {

namespace {

template <class S>
void fill(ColouredCsr& out, const std::int32_t* indptr, const std::int32_t* indices,
          const S* data, const std::vector<std::int32_t>& iperm) {
  const Index n = out.n;
  // One pass over A: every value checked, 1/a_ii computed (duplicates summed, as SciPy does).
  std::vector<S> inv(static_cast<std::size_t>(n));
  adasolve::CsrView<S, std::int32_t> view;
  view.n_rows = view.n_cols = n;
  view.indptr = indptr;
  view.indices = indices;
  view.data = data;
  sor::require_ok(sor::inverse_diagonal(view, inv.data()), "A");

  const Index nnz = indptr[n];
  out.indptr.assign(static_cast<std::size_t>(n + 1), 0);
  out.indices.resize(static_cast<std::size_t>(nnz));
  out.data.resize(static_cast<std::size_t>(nnz) * sizeof(S));
  out.inv_diag.resize(static_cast<std::size_t>(n) * sizeof(S));
  S* a = reinterpret_cast<S*>(out.data.data());
  S* d = reinterpret_cast<S*>(out.inv_diag.data());
  std::int64_t dst = 0;
  for (Index r = 0; r < n; ++r) {
    const Index o = out.perm[static_cast<std::size_t>(r)];
    for (std::int64_t k = indptr[o]; k < indptr[o + 1]; ++k, ++dst) {
      out.indices[static_cast<std::size_t>(dst)] = iperm[static_cast<std::size_t>(indices[k])];
      a[dst] = data[k];
    }
    out.indptr[static_cast<std::size_t>(r + 1)] = static_cast<std::int32_t>(dst);
    d[r] = inv[static_cast<std::size_t>(o)];
  }
}

}  // namespace

ColouredCsr colour_permute(Index n, const std::int32_t* indptr, Index len_indptr,
                           const std::int32_t* indices, Index len_indices, const void* data,
                           bool dbl) {
  if (n < 1) throw std::invalid_argument("A is empty");
  adasolve::check_compressed<std::int32_t>("A", "column", n, n, indptr, len_indptr, indices,
                                           len_indices);
  ColouredCsr out;
  out.n = n;
  out.dbl = dbl;
  // Rows of one colour, in increasing order, become a contiguous range: a stable sort by colour.
  const sor::Coloring col = sor::greedy_coloring<std::int32_t>(n, indptr, indices);
  out.color_ptr.assign(col.color_ptr.begin(), col.color_ptr.end());
  out.perm.resize(static_cast<std::size_t>(n));
  std::vector<std::int32_t> iperm(static_cast<std::size_t>(n));
  for (Index r = 0; r < n; ++r) {
    const Index o = col.rows[static_cast<std::size_t>(r)];
    out.perm[static_cast<std::size_t>(r)] = static_cast<std::int32_t>(o);
    iperm[static_cast<std::size_t>(o)] = static_cast<std::int32_t>(r);
  }
  if (dbl)
    fill(out, indptr, indices, static_cast<const double*>(data), iperm);
  else
    fill(out, indptr, indices, static_cast<const float*>(data), iperm);
  return out;
}

}  // namespace adasolve::cuda
