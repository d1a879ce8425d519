// pybind11 bindings for the bcd family: array conversion, GIL release, errors only.
#include "bindings.hpp"

#include <pybind11/stl.h>

#include <vector>

#include "adasolve/bcd.hpp"

namespace adasolve_bind {

namespace {

using adasolve::Index;
namespace bcd = adasolve::bcd;
using DArr = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IArr = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// CSR given as (n_rows, n_cols, indptr, indices, data) -> Eigen sparse (the engine owns a copy).
template <int Order>
Eigen::SparseMatrix<double, Order> to_sparse(const py::tuple& t, const std::string& name) {
  const Index nr = t[0].cast<Index>(), nc = t[1].cast<Index>();
  IArr ip = t[2].cast<IArr>(), ix = t[3].cast<IArr>();
  DArr dv = t[4].cast<DArr>();
  if (ip.ndim() != 1 || ix.ndim() != 1 || dv.ndim() != 1 || ix.shape(0) != dv.shape(0))
    throw std::invalid_argument(name + ": indptr, indices and data must be 1-D, len(indices) == len(data)");
  adasolve::check_compressed<std::int64_t>(name, "column", nr, nc, ip.data(), ip.shape(0),
                                           ix.data(), ix.shape(0));
  const auto* p = ip.data();
  const auto* j = ix.data();
  const double* v = dv.data();
  std::vector<Eigen::Triplet<double, Index>> trip;
  trip.reserve(static_cast<std::size_t>(p[nr]));
  for (Index r = 0; r < nr; ++r)
    for (auto k = p[r]; k < p[r + 1]; ++k) trip.emplace_back(r, j[k], v[k]);
  Eigen::SparseMatrix<double, Order> M(nr, nc);
  M.setFromTriplets(trip.begin(), trip.end());
  return M;
}

Eigen::VectorXd to_vec(const py::object& o) {
  if (o.is_none()) return {};
  DArr a = o.cast<DArr>();
  return Eigen::Map<const Eigen::VectorXd>(a.data(), a.size());
}

std::unique_ptr<bcd::Solver> make_solver(bcd::Loss loss, const py::object& X, const py::object& y,
                                         const py::object& Y, const py::object& l1,
                                         const py::object& l2, bool nonneg,
                                         const bcd::Options& o, const py::object& x0) {
  bcd::ProblemData P;
  P.loss = loss;
  P.nonneg = nonneg;
  P.l1 = to_vec(l1);
  P.l2 = to_vec(l2);
  P.x0 = to_vec(x0);
  if (P.loss == bcd::Loss::Quadratic) {
    // X is the CSR of the symmetric matrix A, y the linear term b
    P.A = to_sparse<Eigen::ColMajor>(X.cast<py::tuple>(), "A");
    P.b = to_vec(y);
    P.n_samples = P.n_features = P.A.rows();
  } else if (py::isinstance<py::tuple>(X)) {
    py::tuple t = X.cast<py::tuple>();
    P.sparse = true;
    P.Xs = to_sparse<Eigen::ColMajor>(t, "X");
    P.Xr = P.Xs;
    P.n_samples = P.Xs.rows();
    P.n_features = P.Xs.cols();
  } else {
    DArr a = X.cast<DArr>();
    if (a.ndim() != 2) throw std::invalid_argument("X must be 2-D");
    P.n_samples = a.shape(0);
    P.n_features = a.shape(1);
    using RM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    P.Xd = Eigen::Map<const RM>(a.data(), P.n_samples, P.n_features);  // column-major copy
  }
  if (P.loss == bcd::Loss::Softmax) {
    DArr a = Y.cast<DArr>();
    using RM = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    P.Y = Eigen::Map<const RM>(a.data(), a.shape(0), a.shape(1));
    P.n_classes = a.shape(1);
  } else if (P.loss != bcd::Loss::Quadratic) {
    P.y = to_vec(y);
  }
  py::gil_scoped_release nogil;
  return std::make_unique<bcd::Solver>(std::move(P), o);
}

py::array_t<double> vec_out(const std::vector<double>& v) {
  py::array_t<double> a(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), a.mutable_data());
  return a;
}

}  // namespace

void bind_bcd(py::module_ m) {
  // One enum per choice; Python's one parser (adasolve.bcd.engine._option) maps the user's
  // strings onto these names ('-' in a string is '_' here).
  py::enum_<bcd::Loss>(m, "Loss")
      .value("least_squares", bcd::Loss::LeastSquares)
      .value("logistic", bcd::Loss::Logistic)
      .value("softmax", bcd::Loss::Softmax)
      .value("quadratic", bcd::Loss::Quadratic);
  py::enum_<bcd::Rule>(m, "Rule")
      .value("cyclic", bcd::Rule::Cyclic)
      .value("random", bcd::Rule::Random)
      .value("lipschitz", bcd::Rule::Lipschitz)
      .value("gs", bcd::Rule::GS)
      .value("gsl", bcd::Rule::GSL)
      .value("gsd", bcd::Rule::GSD)
      .value("gsq", bcd::Rule::GSQ);
  py::enum_<bcd::Blocks>(m, "Blocks")
      .value("fixed", bcd::Blocks::Fixed)
      .value("sorted", bcd::Blocks::Sorted)
      .value("random", bcd::Blocks::Random)
      .value("variable", bcd::Blocks::Variable)
      .value("tree", bcd::Blocks::Tree)
      .value("auto", bcd::Blocks::Auto);
  py::enum_<bcd::Update>(m, "Update")
      .value("gradient", bcd::Update::Gradient)
      .value("lipschitz", bcd::Update::Lipschitz)
      .value("newton", bcd::Update::Newton)
      .value("message_passing", bcd::Update::MessagePassing);
  py::enum_<bcd::TreeKind>(m, "TreeKind")
      .value("grow", bcd::TreeKind::Grow)
      .value("red_black", bcd::TreeKind::RedBlack)
      .value("partition", bcd::TreeKind::Partition);
  m.def("resolve_blocks", &bcd::resolve_blocks, py::arg("blocks"), py::arg("rule"));

  py::class_<bcd::Options>(m, "Options")
      .def(py::init<>())
      .def_readwrite("rule", &bcd::Options::rule)
      .def_readwrite("blocks", &bcd::Options::blocks)
      .def_readwrite("update", &bcd::Options::update)
      .def_readwrite("tree", &bcd::Options::tree)
      .def_readwrite("block_size", &bcd::Options::block_size)
      .def_readwrite("tol", &bcd::Options::tol)
      .def_readwrite("seed", &bcd::Options::seed)
      .def_readwrite("gram_limit", &bcd::Options::gram_limit)
      .def_readwrite("priority", &bcd::Options::priority);

  py::class_<bcd::Solver>(m, "Solver")
      .def(py::init(&make_solver), py::arg("loss"), py::arg("X"), py::arg("y"), py::arg("Y"),
           py::arg("l1"), py::arg("l2"), py::arg("nonneg"), py::arg("options"),
           py::arg("x0") = py::none())
      .def("run", &bcd::Solver::run, py::arg("iters"), py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("x", [](const bcd::Solver& s) {
        const auto& x = s.x();
        py::array_t<double> a(x.size());
        std::copy(x.data(), x.data() + x.size(), a.mutable_data());
        return a;
      })
      .def_property_readonly("fun", &bcd::Solver::fun)
      .def_property_readonly("optimality", &bcd::Solver::optimality)
      .def_property_readonly("nit", &bcd::Solver::nit)
      .def_property_readonly("converged", &bcd::Solver::converged)
      .def_property_readonly("hist_fun", [](const bcd::Solver& s) { return vec_out(s.hist_fun()); })
      .def_property_readonly("hist_opt", [](const bcd::Solver& s) { return vec_out(s.hist_opt()); })
      .def_property_readonly("hist_time", [](const bcd::Solver& s) { return vec_out(s.hist_time()); })
      .def_property_readonly("last_block", [](const bcd::Solver& s) { return s.last_block(); })
      .def_property_readonly("partition", [](const bcd::Solver& s) { return s.partition(); })
      .def_property_readonly("uses_priority", &bcd::Solver::uses_priority)
      .def_property_readonly("options", [](const bcd::Solver& s) { return bcd::Options(s.options()); });

  m.def("tree_solve", [](const py::tuple& A, const std::vector<Index>& block, const py::object& r,
                         bool gabp) {
    auto M = to_sparse<Eigen::ColMajor>(A, "A");
    Eigen::VectorXd rv = to_vec(r);
    py::gil_scoped_release nogil;
    Eigen::VectorXd d = gabp ? bcd::gabp_solve(M, block, rv) : bcd::tree_solve(M, block, rv);
    py::gil_scoped_acquire gil;
    py::array_t<double> a(d.size());
    std::copy(d.data(), d.data() + d.size(), a.mutable_data());
    return a;
  }, py::arg("A"), py::arg("block"), py::arg("r"), py::arg("gabp") = false);
}

}  // namespace adasolve_bind
