#include "adasolve/notears_swap.hpp"

namespace adasolve::notears_swap {}
