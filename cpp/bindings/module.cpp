// adasolve._core: the one extension module. This file only gathers the families.
#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "adasolve's C++ cores (private: use the adasolve package)";
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
