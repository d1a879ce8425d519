// Declarations shared by the pybind11 binding files. Each family lives in
// bind_<family>.cpp and registers itself on its own submodule of adasolve._core.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/numpy.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "adasolve/common.hpp"

namespace py = pybind11;

namespace adasolve_bind {

void bind_sor(py::module_ m);
void bind_bcd(py::module_ m);
void bind_bcd_glm(py::module_ m);
void bind_mfac(py::module_ m);
void bind_dag(py::module_ m);
void bind_constrained(py::module_ m);

/// Zero-copy CSR view from three NumPy arrays (contiguous, right dtypes, checked in Python).
/// The index arrays are checked here with adasolve::check_compressed, so malformed input
/// (SciPy does not check index values) is a ValueError naming `name`, never a crash.
template <class Scalar, class Idx>
adasolve::CsrView<Scalar, Idx> csr_view(adasolve::Index n_rows, adasolve::Index n_cols,
                                        const py::array_t<Idx, 0>& indptr,
                                        const py::array_t<Idx, 0>& indices,
                                        const py::array_t<Scalar, 0>& data,
                                        const std::string& name = "A") {
  auto contiguous = [](const py::array& a) {
    return (a.flags() & py::array::c_style) != 0;
  };
  if (!contiguous(indptr) || !contiguous(indices) || !contiguous(data))
    throw std::invalid_argument(name + ": CSR arrays must be C-contiguous");
  if (indptr.ndim() != 1 || indices.ndim() != 1 || data.ndim() != 1 ||
      indices.shape(0) != data.shape(0))
    throw std::invalid_argument(name + ": indices and data must be 1-D of equal length");
  adasolve::check_compressed<Idx>(name, "column", n_rows, n_cols, indptr.data(),
                                  indptr.shape(0), indices.data(), indices.shape(0));
  adasolve::CsrView<Scalar, Idx> v;
  v.n_rows = n_rows;
  v.n_cols = n_cols;
  v.indptr = indptr.data();
  v.indices = indices.data();
  v.data = data.data();
  return v;
}

}  // namespace adasolve_bind
