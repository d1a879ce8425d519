// adasolve._core: the one extension module. This file only gathers the families.
#include "bindings.hpp"

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
  m.def("max_threads", &adasolve::max_threads,
        "Number of OpenMP threads the C++ cores use (1 when built without OpenMP).");
#ifdef ADASOLVE_HAVE_OPENMP
  m.attr("has_openmp") = true;
#else
  m.attr("has_openmp") = false;
#endif
  adasolve_bind::bind_sor(m.def_submodule("sor", "SOR / SSOR kernels"));
  adasolve_bind::bind_bcd(m.def_submodule("bcd", "greedy block coordinate descent"));
  adasolve_bind::bind_bcd_glm(m.def_submodule("bcd_glm", "working-set CD for L1 GLMs"));
  adasolve_bind::bind_mfac(m.def_submodule("mfac", "M-FAC inverse-Hessian-vector products"));
  adasolve_bind::bind_notears_swap(m.def_submodule("notears_swap", "NOTEARS by topological swaps"));
  adasolve_bind::bind_sketch_newton(m.def_submodule("sketch_newton", "sketching Newton for equality constraints"));
}
