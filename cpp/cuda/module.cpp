// adasolve._cuda: the optional GPU module. Device arrays arrive as raw pointers (uintptr_t)
// extracted in Python from __cuda_array_interface__ / DLPack (python/adasolve/_device.py),
// together with the caller's stream; host CSR arrays for the SOR plan arrive as NumPy arrays
// and are coloured and checked by the CPU library (sor_host.cpp) before the upload.
// Compiled by the host compiler: no CUDA headers here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "adasolve_cuda.hpp"

namespace py = pybind11;
namespace ac = adasolve::cuda;
using ac::Index;
using ac::uptr;

namespace {

py::tuple report(const ac::SolveReport& r) {
  return py::make_tuple(r.nit, r.info, r.resid, r.bnorm);
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "adasolve's CUDA kernels (private: use adasolve with CuPy/PyTorch arrays)";
  m.def("device_count", &ac::device_count);
  m.def("device_name", &ac::device_name, py::arg("device") = 0);
  m.def("synchronize", &ac::synchronize, py::arg("stream") = 0);
  m.def("all_finite", [](uptr x, Index n, bool dbl, uptr stream) {
    py::gil_scoped_release nogil;
    return ac::all_finite(x, n, dbl, stream);
  });

  py::class_<ac::MfacStatic>(m, "MfacStatic")
      .def(py::init<uptr, Index, Index, Index, bool, double, int, uptr>(), py::arg("grads"),
           py::arg("m"), py::arg("d"), py::arg("ld"), py::arg("dbl"), py::arg("damp"),
           py::arg("device"), py::arg("stream"))
      .def("ihvp", &ac::MfacStatic::ihvp)
      .def("quad", &ac::MfacStatic::quad)
      .def("diag", &ac::MfacStatic::diag)
      .def("element", &ac::MfacStatic::element);

  py::class_<ac::MfacSliding>(m, "MfacSliding")
      .def(py::init<uptr, Index, Index, bool, double, int, uptr>(), py::arg("buffer"), py::arg("m"),
           py::arg("d"), py::arg("dbl"), py::arg("damp"), py::arg("device"), py::arg("stream"))
      .def("update", &ac::MfacSliding::update)
      .def("ihvp", &ac::MfacSliding::ihvp)
      .def("update_and_ihvp", &ac::MfacSliding::update_and_ihvp)
      .def("reset", &ac::MfacSliding::reset)
      .def("load", &ac::MfacSliding::load)
      .def_property_readonly("count", &ac::MfacSliding::count)
      .def_property_readonly("slot", &ac::MfacSliding::slot);

  py::class_<ac::SorPlan>(m, "SorPlan")
      .def(py::init([](Index n, py::array_t<std::int32_t, py::array::c_style> indptr,
                       py::array_t<std::int32_t, py::array::c_style> indices, py::array data,
                       int device) {
             const bool dbl = data.dtype().is(py::dtype::of<double>());
             if (!dbl && !data.dtype().is(py::dtype::of<float>()))
               throw py::type_error("A must have dtype float32 or float64");
             if (!(data.flags() & py::array::c_style)) throw py::value_error("A's data must be contiguous");
             if (indptr.ndim() != 1 || indices.ndim() != 1 || data.ndim() != 1 ||
                 indices.shape(0) != data.shape(0))
               throw py::value_error("A: indptr, indices and data must be 1-D, indices and data of equal length");
             py::gil_scoped_release nogil;
             // Indices, values and diagonal are checked by the CPU library while it colours A.
             const ac::ColouredCsr A = ac::colour_permute(n, indptr.data(), indptr.shape(0), indices.data(),
                                                          indices.shape(0), data.data(), dbl);
             return new ac::SorPlan(A, device);
           }),
           py::arg("n"), py::arg("indptr"), py::arg("indices"), py::arg("data"), py::arg("device"))
      .def_property_readonly("n", &ac::SorPlan::n)
      .def_property_readonly("nnz", &ac::SorPlan::nnz)
      .def_property_readonly("ncolors", &ac::SorPlan::ncolors)
      .def_property_readonly("is_double", &ac::SorPlan::is_double)
      .def_property_readonly("perm", [](const ac::SorPlan& p) {
        return py::array_t<std::int32_t>(p.perm().size(), p.perm().data());
      })
      .def_property_readonly("color_ptr", [](const ac::SorPlan& p) {
        return py::array_t<std::int64_t>(p.color_ptr().size(), p.color_ptr().data());
      })
      .def("sor", [](ac::SorPlan& p, uptr b, uptr x, double omega, double rtol, double atol,
                     Index maxiter, bool symmetric, Index check_every, uptr stream) {
             ac::SolveReport r;
             {
               py::gil_scoped_release nogil;
               r = p.sor(b, x, omega, rtol, atol, maxiter, symmetric, check_every, stream);
             }
             return report(r);
           })
      .def("ssor_cg", [](ac::SorPlan& p, uptr b, uptr x, double omega, double rtol, double atol,
                         Index maxiter, uptr stream) {
             ac::SolveReport r;
             {
               py::gil_scoped_release nogil;
               r = p.ssor_cg(b, x, omega, rtol, atol, maxiter, stream);
             }
             return report(r);
           })
      .def("sweep", &ac::SorPlan::sweep)
      .def("spmv_permuted", &ac::SorPlan::spmv_permuted)
      .def("sweep_permuted", &ac::SorPlan::sweep_permuted);

  m.def("gaussian_sketch", &ac::gaussian_sketch);
  m.def("countsketch_dense", &ac::countsketch_dense);
  m.def("countsketch_csr", &ac::countsketch_csr);
  m.def("sketch_matrix", &ac::sketch_matrix);
}
