// pybind11 bindings for the bcd family: array conversion, GIL release, errors only.
#include "bindings.hpp"

#include "adasolve/bcd.hpp"

namespace adasolve_bind {

void bind_bcd(py::module_ m) {
  (void)m;
}

}  // namespace adasolve_bind
