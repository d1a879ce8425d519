// pybind11 bindings for the notears_swap family: array conversion, GIL release, errors only.
#include "bindings.hpp"

#include "adasolve/notears_swap.hpp"

namespace adasolve_bind {

void bind_notears_swap(py::module_ m) {
  (void)m;
}

}  // namespace adasolve_bind
