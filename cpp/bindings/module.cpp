// adasolve._core: the one extension module. This file only gathers the families.
#include "bindings.hpp"

#include "adasolve/common/parallel.hpp"

#ifdef ADASOLVE_HAVE_OPENMP
#include <omp.h>
#endif

namespace {

// Ctrl-C inside a long C++ call: the loop (GIL released) polls this hook every ~20 ms of
// work; it takes the GIL, lets Python run its signal handlers, and keeps the exception they
// raised (KeyboardInterrupt for SIGINT) so that the translator below re-raises that very one.
thread_local PyObject* t_pending_type = nullptr;
thread_local PyObject* t_pending_value = nullptr;
thread_local PyObject* t_pending_tb = nullptr;

bool python_interrupt_pending() {
  py::gil_scoped_acquire gil;
  if (PyErr_CheckSignals() == 0) return false;
  PyErr_Fetch(&t_pending_type, &t_pending_value, &t_pending_tb);
  return true;
}

template <class Idx>
void check_compressed_py(const std::string& name, const std::string& inner,
                         adasolve::Index n_outer, adasolve::Index n_inner,
                         const py::array_t<Idx, 0>& indptr, const py::array_t<Idx, 0>& indices,
                         bool check_indices) {
  if (!(indptr.flags() & py::array::c_style) || !(indices.flags() & py::array::c_style) ||
      indptr.ndim() != 1 || indices.ndim() != 1)
    throw std::invalid_argument(name + ": indptr and indices must be 1-D contiguous arrays");
  if (indptr.shape(0) == 0)
    throw std::invalid_argument(name + " has an empty index pointer (indptr)");
  py::gil_scoped_release nogil;
  adasolve::check_compressed<Idx>(name, inner.c_str(), n_outer, n_inner, indptr.data(),
                                  indptr.shape(0), indices.data(), indices.shape(0),
                                  check_indices);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "adasolve's C++ cores (private: use the adasolve package)";
  adasolve::set_interrupt_hook(&python_interrupt_pending);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const adasolve::Interrupted&) {
      if (t_pending_type != nullptr) {
        PyErr_Restore(t_pending_type, t_pending_value, t_pending_tb);
        t_pending_type = t_pending_value = t_pending_tb = nullptr;
      } else {
        PyErr_SetNone(PyExc_KeyboardInterrupt);
      }
    }
  });
  m.def("check_compressed", &check_compressed_py<std::int32_t>, py::arg("name"), py::arg("inner"),
        py::arg("n_outer"), py::arg("n_inner"), py::arg("indptr").noconvert(),
        py::arg("indices").noconvert(), py::arg("check_indices") = true,
        "Raise ValueError unless indptr/indices describe a valid compressed sparse matrix.");
  m.def("check_compressed", &check_compressed_py<std::int64_t>, py::arg("name"), py::arg("inner"),
        py::arg("n_outer"), py::arg("n_inner"), py::arg("indptr").noconvert(),
        py::arg("indices").noconvert(), py::arg("check_indices") = true);
  m.def("max_threads", &adasolve::max_threads,
        "Number of OpenMP threads the C++ cores use (1 when built without OpenMP).");
  // Threads are one library-wide setting: the thread team of the multicolour / large-vector
  // kernels (adasolve/common/parallel.hpp) and OpenMP's count for the calling thread.
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) throw std::invalid_argument("n must be >= 1, got " + std::to_string(n));
        adasolve::parallel::set_num_threads(n);
#ifdef ADASOLVE_HAVE_OPENMP
        omp_set_num_threads(n);
#endif
      },
      py::arg("n"),
      "Set the number of threads adasolve's parallel kernels use (n >= 1; at most 64 for the\n"
      "thread team of the SOR kernels, whose serial and parallel speeds are timed and the\n"
      "faster kept); also OpenMP's count for the calling thread.");
  m.def("num_threads", &adasolve::parallel::num_threads,
        "Number of threads of adasolve's thread team (the multicolour SOR kernels); the default\n"
        "is the number of usable cores (at most 8), or ADASOLVE_NUM_THREADS / OMP_NUM_THREADS.");
#ifdef ADASOLVE_HAVE_OPENMP
  m.attr("has_openmp") = true;
#else
  m.attr("has_openmp") = false;
#endif
  adasolve_bind::bind_sor(m.def_submodule("sor", "SOR / SSOR kernels"));
  py::module_ bcd = m.def_submodule("bcd", "greedy block coordinate descent");
  adasolve_bind::bind_bcd(bcd);
  adasolve_bind::bind_bcd_glm(bcd.def_submodule("glm", "working-set CD for L1 GLMs"));
  adasolve_bind::bind_mfac(m.def_submodule("mfac", "M-FAC inverse-Hessian-vector products"));
  adasolve_bind::bind_dag(m.def_submodule("dag", "NOTEARS by topological swaps"));
  adasolve_bind::bind_constrained(m.def_submodule("constrained", "sketched Newton for equality constraints"));
}
