#include "adasolve/sor.hpp"

namespace adasolve::sor {}
