// adasolve::mfac: plain C++17 + Eigen core (no Python types).
#pragma once

#include "adasolve/common.hpp"

namespace adasolve::mfac {}
