#include "adasolve/common.hpp"

#ifdef ADASOLVE_HAVE_OPENMP
#include <omp.h>
#endif

namespace adasolve {

int max_threads() {
#ifdef ADASOLVE_HAVE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

}  // namespace adasolve
