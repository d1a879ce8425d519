// pybind11 bindings for the dag family: array conversion, GIL release, errors only.
#include "bindings.hpp"

#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <memory>
#include <vector>

#include "adasolve/dag.hpp"

namespace adasolve_bind {

namespace ns = adasolve::dag;
using adasolve::Index;
using RowMatD = adasolve::RowMatrix<double>;

namespace {

ns::Options make_options(const std::string& loss, double l1, double l2, Index size_small,
                         Index size_large, Index n_large_search, bool check,
                         const std::string& model, Index n_knots,
                         std::vector<ns::Edge> required, std::vector<ns::Edge> forbidden,
                         std::vector<ns::Edge> precede) {
  ns::Options o;
  if (loss == "l2") o.loss = ns::Loss::L2;
  else if (loss == "logistic") o.loss = ns::Loss::Logistic;
  else throw std::invalid_argument("topo_swap: unknown loss '" + loss + "'");
  if (model == "linear") o.model = ns::Model::Linear;
  else if (model == "additive") o.model = ns::Model::Additive;
  else throw std::invalid_argument("topo_swap: unknown model '" + model + "'");
  o.l1 = l1;
  o.l2 = l2;
  o.size_small = size_small;
  o.size_large = size_large;
  o.n_large_search = n_large_search;
  o.check = check;
  o.n_knots = n_knots;
  o.required = std::move(required);
  o.forbidden = std::move(forbidden);
  o.precede = std::move(precede);
  return o;
}

}  // namespace

void bind_dag(py::module_ m) {
  m.doc() = "Topological-swap search for NOTEARS objectives (Deng et al., ICML 2023)";

  py::class_<ns::Solver>(m, "Solver")
      .def(py::init([](Eigen::Ref<const RowMatD> X, std::vector<Index> order,
                       const std::string& loss, double l1, double l2, Index size_small,
                       Index size_large, Index n_large_search, bool check,
                       const std::string& model, Index n_knots, std::vector<ns::Edge> required,
                       std::vector<ns::Edge> forbidden, std::vector<ns::Edge> precede) {
             const ns::Options o =
                 make_options(loss, l1, l2, size_small, size_large, n_large_search, check, model,
                              n_knots, std::move(required), std::move(forbidden),
                              std::move(precede));
             py::gil_scoped_release release;
             return std::make_unique<ns::Solver>(X.data(), X.rows(), X.cols(), order, o);
           }),
           py::arg("X").noconvert(), py::arg("order"), py::arg("loss") = "l2",
           py::arg("l1") = 0.0, py::arg("l2") = 0.0, py::arg("size_small") = -1,
           py::arg("size_large") = -1, py::arg("n_large_search") = -1,
           py::arg("check") = false, py::arg("model") = "linear", py::arg("n_knots") = 5,
           py::arg("required") = std::vector<ns::Edge>{},
           py::arg("forbidden") = std::vector<ns::Edge>{},
           py::arg("precede") = std::vector<ns::Edge>{})
      .def_static(
          "from_gram",
          [](const ns::Mat& cov, Index n, std::vector<Index> order, double l1, double l2,
             Index size_small, Index size_large, Index n_large_search, bool check,
             std::vector<ns::Edge> required, std::vector<ns::Edge> forbidden,
             std::vector<ns::Edge> precede) {
            const ns::Options o = make_options("l2", l1, l2, size_small, size_large,
                                               n_large_search, check, "linear", 0,
                                               std::move(required), std::move(forbidden),
                                               std::move(precede));
            py::gil_scoped_release release;
            return std::make_unique<ns::Solver>(cov, n, order, o);
          },
          "Solver from the centred covariance cov = Xc^T Xc / n (loss 'l2', linear model).",
          py::arg("cov"), py::arg("n"), py::arg("order"), py::arg("l1") = 0.0,
          py::arg("l2") = 0.0, py::arg("size_small") = -1, py::arg("size_large") = -1,
          py::arg("n_large_search") = -1, py::arg("check") = false,
          py::arg("required") = std::vector<ns::Edge>{},
          py::arg("forbidden") = std::vector<ns::Edge>{},
          py::arg("precede") = std::vector<ns::Edge>{})
      .def("step",
           [](ns::Solver& s) {
             py::gil_scoped_release release;
             return s.step() == ns::Status::Converged;
           },
           "One outer iteration; returns True when no candidate swap improves the score.")
      .def_property_readonly("W", [](const ns::Solver& s) { return ns::Mat(s.W()); })
      .def_property_readonly("order", &ns::Solver::order)
      .def_property_readonly("score", &ns::Solver::score)
      .def("exact_score", &ns::Solver::exact_score)
      .def_property_readonly("history", &ns::Solver::history)
      .def_property_readonly("n_swaps", &ns::Solver::n_swaps)
      .def_property_readonly("n_iter", &ns::Solver::n_iter)
      .def_property_readonly("n_evaluated", &ns::Solver::n_evaluated)
      .def_property_readonly("size_small", &ns::Solver::size_small)
      .def_property_readonly("size_large", &ns::Solver::size_large)
      .def_property_readonly("n_large_search", &ns::Solver::n_large_search)
      .def_property_readonly("large_used", &ns::Solver::large_used)
      .def_property_readonly("check_max_diff", &ns::Solver::check_max_diff);

  m.def("greedy_order",
        [](Eigen::Ref<const RowMatD> X, std::vector<ns::Edge> precede) {
          py::gil_scoped_release release;
          return ns::greedy_order(X.data(), X.rows(), X.cols(), precede);
        },
        py::arg("X").noconvert(), py::arg("precede") = std::vector<ns::Edge>{});
  m.def("greedy_order_cov",
        [](const ns::Mat& cov, std::vector<ns::Edge> precede) {
          py::gil_scoped_release release;
          return ns::greedy_order_cov(cov, precede);
        },
        py::arg("cov"), py::arg("precede") = std::vector<ns::Edge>{});

  m.def("default_sizes", [](Index d) {
    Index a, b, c;
    ns::default_sizes(d, a, b, c);
    return py::make_tuple(a, b, c);
  });
}

}  // namespace adasolve_bind
