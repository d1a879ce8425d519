#include "adasolve/sketch_newton.hpp"

namespace adasolve::sketch_newton {}
