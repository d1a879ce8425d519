// pybind11 bindings for the sor family: array conversion, GIL release, errors only.
#include "bindings.hpp"

#include "adasolve/sor.hpp"

namespace adasolve_bind {

void bind_sor(py::module_ m) {
  (void)m;
}

}  // namespace adasolve_bind
