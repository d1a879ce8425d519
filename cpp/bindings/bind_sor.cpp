// pybind11 bindings for the sor family: array conversion, GIL release, errors only.
#include "bindings.hpp"

#include <string>

#include "adasolve/sor.hpp"

#ifdef ADASOLVE_HAVE_OPENMP
#include <omp.h>
#endif

namespace adasolve_bind {

using adasolve::Index;
namespace sor = adasolve::sor;

namespace {

template <class S>
using Arr = py::array_t<S, 0>;

void check_c(const py::array& a, const char* name, bool writeable = false) {
  if (!(a.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(name) + " must be C-contiguous");
  if (writeable && !a.writeable()) throw std::invalid_argument(std::string(name) + " must be writeable");
}

// (n, k) block from a 1-D (n,) or 2-D (n, k) array.
Index n_cols_of(const py::array& a, Index n, const char* name) {
  if (a.ndim() == 1 && a.shape(0) == n) return 1;
  if (a.ndim() == 2 && a.shape(0) == n) return a.shape(1);
  throw std::invalid_argument(std::string(name) + " must have shape (n,) or (n, k) with n = " +
                              std::to_string(n));
}

template <class S, class I>
void def_family(py::module_& m) {
  m.def(
      "inverse_diagonal",
      [](Index n, const Arr<I>& indptr, const Arr<I>& indices, const Arr<S>& data) {
        auto A = csr_view<S, I>(n, n, indptr, indices, data);
        std::vector<S> inv;
        {
          py::gil_scoped_release nogil;
          inv = sor::inverse_diagonal(A);
        }
        Arr<S> out(n);
        std::copy(inv.begin(), inv.end(), out.mutable_data());
        return out;
      },
      py::arg("n"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
      py::arg("data").noconvert());

  m.def(
      "sweep",
      [](Index n, const Arr<I>& indptr, const Arr<I>& indices, const Arr<S>& data,
         const Arr<S>& inv_diag, Arr<S> x, const Arr<S>& b, double omega, Index iterations,
         int direction, const sor::Coloring* coloring) {
        auto A = csr_view<S, I>(n, n, indptr, indices, data);
        check_c(x, "x", true);
        check_c(b, "b");
        check_c(inv_diag, "inv_diag");
        const Index k = n_cols_of(x, n, "x");
        if (n_cols_of(b, n, "b") != k) throw std::invalid_argument("x and b must have the same shape");
        if (inv_diag.size() != n) throw std::invalid_argument("inv_diag must have n entries");
        S* xp = x.mutable_data();
        py::gil_scoped_release nogil;
        sor::sweep(A, inv_diag.data(), xp, b.data(), k, omega, iterations,
                   static_cast<sor::Direction>(direction), coloring);
      },
      py::arg("n"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
      py::arg("data").noconvert(), py::arg("inv_diag").noconvert(), py::arg("x").noconvert(),
      py::arg("b").noconvert(), py::arg("omega"), py::arg("iterations"), py::arg("direction"),
      py::arg("coloring").none(true));

  m.def(
      "solve",
      [](Index n, const Arr<I>& indptr, const Arr<I>& indices, const Arr<S>& data,
         const Arr<S>& inv_diag, Arr<S> x, const Arr<S>& b, bool symmetric,
         const sor::Coloring* coloring, Index maxiter, const Arr<double>& target,
         sor::SolveState& state) {
        auto A = csr_view<S, I>(n, n, indptr, indices, data);
        check_c(x, "x", true);
        check_c(b, "b");
        check_c(target, "target");
        const Index k = n_cols_of(x, n, "x");
        if (n_cols_of(b, n, "b") != k) throw std::invalid_argument("x and b must have the same shape");
        if (target.size() != k) throw std::invalid_argument("target must have k entries");
        if (inv_diag.size() != n) throw std::invalid_argument("inv_diag must have n entries");
        S* xp = x.mutable_data();
        adasolve::Report rep;
        {
          py::gil_scoped_release nogil;
          rep = sor::solve(A, inv_diag.data(), xp, b.data(), k, symmetric, coloring, maxiter,
                           target.data(), state);
        }
        return py::make_tuple(rep.nit, rep.info, rep.resid);
      },
      py::arg("n"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
      py::arg("data").noconvert(), py::arg("inv_diag").noconvert(), py::arg("x").noconvert(),
      py::arg("b").noconvert(), py::arg("symmetric"), py::arg("coloring").none(true),
      py::arg("maxiter"), py::arg("target").noconvert(), py::arg("state"));

  m.def(
      "ssor_apply",
      [](Index n, const Arr<I>& indptr, const Arr<I>& indices, const Arr<S>& data,
         const Arr<S>& inv_diag, double omega, const Arr<S>& r, Arr<S> z) {
        auto A = csr_view<S, I>(n, n, indptr, indices, data);
        check_c(r, "r");
        check_c(z, "z", true);
        const Index k = n_cols_of(r, n, "r");
        if (n_cols_of(z, n, "z") != k) throw std::invalid_argument("r and z must have the same shape");
        S* zp = z.mutable_data();
        py::gil_scoped_release nogil;
        sor::ssor_apply(A, inv_diag.data(), omega, r.data(), zp, k);
      },
      py::arg("n"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
      py::arg("data").noconvert(), py::arg("inv_diag").noconvert(), py::arg("omega"),
      py::arg("r").noconvert(), py::arg("z").noconvert());

  m.def(
      "pcg",
      [](Index n, const Arr<I>& indptr, const Arr<I>& indices, const Arr<S>& data,
         const Arr<S>& inv_diag, double omega, const Arr<S>& b, Arr<S> x, Index maxiter,
         double target, sor::CgState<S>& state) {
        auto A = csr_view<S, I>(n, n, indptr, indices, data);
        check_c(b, "b");
        check_c(x, "x", true);
        if (b.ndim() != 1 || x.ndim() != 1 || b.shape(0) != n || x.shape(0) != n)
          throw std::invalid_argument("b and x must be 1-D of length n");
        S* xp = x.mutable_data();
        adasolve::Report rep;
        {
          py::gil_scoped_release nogil;
          rep = sor::ssor_pcg(A, inv_diag.data(), omega, b.data(), xp, maxiter, target, state);
        }
        return py::make_tuple(rep.nit, rep.info, rep.resid, state.r0);
      },
      py::arg("n"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
      py::arg("data").noconvert(), py::arg("inv_diag").noconvert(), py::arg("omega"),
      py::arg("b").noconvert(), py::arg("x").noconvert(), py::arg("maxiter"), py::arg("target"),
      py::arg("state"));
}

template <class I>
void def_coloring(py::module_& m) {
  m.def(
      "greedy_coloring",
      [](Index n, const Arr<I>& indptr, const Arr<I>& indices) {
        check_c(indptr, "indptr");
        check_c(indices, "indices");
        if (indptr.ndim() != 1 || indptr.shape(0) != n + 1)
          throw std::invalid_argument("indptr must have n + 1 entries");
        py::gil_scoped_release nogil;
        return sor::greedy_coloring<I>(n, indptr.data(), indices.data());
      },
      py::arg("n"), py::arg("indptr").noconvert(), py::arg("indices").noconvert());
}

}  // namespace

void bind_sor(py::module_ m) {
  py::class_<sor::Coloring>(m, "Coloring")
      .def_property_readonly("n_colors", &sor::Coloring::n_colors)
      .def_property_readonly("ptr", [](const sor::Coloring& c) {
        return py::array_t<Index>(static_cast<py::ssize_t>(c.ptr.size()), c.ptr.data());
      })
      .def_property_readonly("rows", [](const sor::Coloring& c) {
        return py::array_t<Index>(static_cast<py::ssize_t>(c.rows.size()), c.rows.data());
      });
  py::class_<sor::SolveState>(m, "SolveState")
      .def(py::init([](double omega, bool adaptive) {
             sor::SolveState s;
             s.omega = omega;
             s.adaptive = adaptive;
             return s;
           }),
           py::arg("omega"), py::arg("adaptive") = false)
      .def_readonly("omega", &sor::SolveState::omega)
      .def_readonly("r0", &sor::SolveState::r0)
      .def_readonly("total", &sor::SolveState::total);
  py::class_<sor::CgState<double>>(m, "CgState64").def(py::init<>());
  py::class_<sor::CgState<float>>(m, "CgState32").def(py::init<>());
  def_family<double, std::int32_t>(m);
  def_family<double, std::int64_t>(m);
  def_family<float, std::int32_t>(m);
  def_family<float, std::int64_t>(m);
  def_coloring<std::int32_t>(m);
  def_coloring<std::int64_t>(m);
  m.def("set_num_threads", [](int n) {
#ifdef ADASOLVE_HAVE_OPENMP
    if (n < 1) throw std::invalid_argument("n must be >= 1");
    omp_set_num_threads(n);
#endif
  }, py::arg("n"), "Set the OpenMP thread count used by the multicolour sweeps (process-wide).");
  m.def("get_num_threads", &adasolve::max_threads);
}

}  // namespace adasolve_bind
