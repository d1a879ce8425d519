#include "adasolve/bcd.hpp"

namespace adasolve::bcd {}
