#include "adasolve/mfac.hpp"

namespace adasolve::mfac {}
