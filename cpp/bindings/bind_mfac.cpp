// pybind11 bindings for the mfac family: array conversion, GIL release, errors only.
#include "bindings.hpp"

#include "adasolve/mfac.hpp"

namespace adasolve_bind {

void bind_mfac(py::module_ m) {
  (void)m;
}

}  // namespace adasolve_bind
