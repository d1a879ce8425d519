// pybind11 bindings for the sketch_newton family: array conversion, GIL release, errors only.
#include "bindings.hpp"

#include "adasolve/sketch_newton.hpp"

namespace adasolve_bind {

void bind_sketch_newton(py::module_ m) {
  (void)m;
}

}  // namespace adasolve_bind
