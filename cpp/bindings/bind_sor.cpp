// pybind11 bindings for the SOR family: array conversion, GIL release, errors only.
//
// A `Csr<dtype><index>` object borrows the CSR arrays of a validated SciPy matrix (no
// copy), computes the inverse diagonal once and the multicolour ordering on demand,
// and runs the kernels with the GIL released.
#include <memory>
#include <string>

#include "bindings.hpp"

#include "adasolve/sor.hpp"

namespace adasolve_bind {

namespace {

using adasolve::Index;
namespace sor = adasolve::sor;

py::dict report_dict(const sor::SolveReport& r) {
  py::dict d;
  d["nit"] = r.nit;
  d["info"] = r.info;
  d["resid"] = r.resid;
  d["r0"] = r.r0;
  d["omega"] = r.omega;
  d["convergence_factor"] = r.convergence_factor;
  d["n_checks"] = r.n_checks;
  d["spectral_radius_jacobi"] = r.spectral_radius_jacobi;
  return d;
}

template <class S>
S* mutable_data(py::array_t<S, 0>& a, const char* name) {
  if (!(a.flags() & py::array::c_style) || !a.writeable())
    throw std::invalid_argument(std::string(name) + " must be a writeable C-contiguous array");
  return a.mutable_data();
}

template <class S>
const S* const_data(const py::array_t<S, 0>& a, const char* name) {
  if (!(a.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(name) + " must be C-contiguous");
  return a.data();
}

template <class S, class I>
struct BoundCsr {
  py::array_t<I, 0> indptr, indices;
  py::array_t<S, 0> data;
  adasolve::CsrView<S, I> view;
  std::vector<S> inv_diag;
  Index bad_row = -1;
  std::shared_ptr<sor::Coloring> coloring;

  BoundCsr(Index n, py::array_t<I, 0> p, py::array_t<I, 0> j, py::array_t<S, 0> v)
      : indptr(std::move(p)), indices(std::move(j)), data(std::move(v)) {
    view = csr_view<S, I>(n, n, indptr, indices, data);
    inv_diag.resize(n);
    py::gil_scoped_release release;
    bad_row = sor::inverse_diagonal(view, inv_diag.data());
  }

  void require_diag() const {
    if (bad_row >= 0)
      throw std::invalid_argument("A has a zero or missing diagonal entry in row " +
                                  std::to_string(bad_row));
  }

  const sor::Coloring* get_coloring(bool multicolor) {
    if (!multicolor) return nullptr;
    if (!coloring) {
      py::gil_scoped_release release;
      coloring = std::make_shared<sor::Coloring>(
          sor::greedy_coloring<I>(view.n_rows, view.indptr, view.indices));
    }
    return coloring.get();
  }

  Index nrhs_of(const py::array& b) const {
    if (b.ndim() == 1) {
      if (b.shape(0) != view.n_rows) throw std::invalid_argument("b has the wrong length");
      return 1;
    }
    if (b.ndim() == 2 && b.shape(0) == view.n_rows) return b.shape(1);
    throw std::invalid_argument("b must be (n,) or (n, k)");
  }
};

template <class S, class I>
struct SorIterHandle {
  std::shared_ptr<BoundCsr<S, I>> A;
  py::array_t<S, 0> b, x;
  std::unique_ptr<sor::SorIteration<S, I>> it;
};

template <class S, class I>
struct PcgIterHandle {
  std::shared_ptr<BoundCsr<S, I>> A;
  py::array_t<S, 0> b, x;
  std::unique_ptr<sor::SsorPcgIteration<S, I>> it;
};

sor::SolveOptions make_opts(double omega, double rtol, double atol, Index maxiter, bool symmetric,
                            bool adaptive) {
  sor::SolveOptions o;
  o.omega = omega;
  o.rtol = rtol;
  o.atol = atol;
  o.maxiter = maxiter;
  o.symmetric = symmetric;
  o.adaptive = adaptive;
  return o;
}

template <class S, class I>
void register_csr(py::module_& m, const std::string& name) {
  using B = BoundCsr<S, I>;
  using SI = SorIterHandle<S, I>;
  using PI = PcgIterHandle<S, I>;

  py::class_<SI>(m, ("SorIteration_" + name).c_str())
      .def("run",
           [](SI& h, Index k) {
             sor::SolveReport r;
             {
               py::gil_scoped_release release;
               r = h.it->run(k);
             }
             return report_dict(r);
           })
      .def_property_readonly("finished", [](const SI& h) { return h.it->finished(); });

  py::class_<PI>(m, ("PcgIteration_" + name).c_str())
      .def("run",
           [](PI& h, Index k) {
             sor::SolveReport r;
             {
               py::gil_scoped_release release;
               r = h.it->run(k);
             }
             return report_dict(r);
           })
      .def_property_readonly("finished", [](const PI& h) { return h.it->finished(); });

  py::class_<B, std::shared_ptr<B>>(m, ("Csr_" + name).c_str())
      .def(py::init<Index, py::array_t<I, 0>, py::array_t<I, 0>, py::array_t<S, 0>>(),
           py::arg("n"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
           py::arg("data").noconvert())
      .def_property_readonly("bad_row", [](const B& a) { return a.bad_row; })
      .def_property_readonly("n_colors",
                             [](B& a) { return a.get_coloring(true)->n_colors(); })
      .def("coloring",
           [](B& a) {
             const sor::Coloring* c = a.get_coloring(true);
             return py::make_tuple(py::array_t<Index>(c->color_ptr.size(), c->color_ptr.data()),
                                   py::array_t<Index>(c->rows.size(), c->rows.data()));
           })
      .def("inverse_diagonal",
           [](const B& a) { return py::array_t<S>(a.inv_diag.size(), a.inv_diag.data()); })
      .def(
          "sweep",
          [](B& a, py::array_t<S, 0> b, py::array_t<S, 0> x, double omega, int direction,
             Index iterations, bool multicolor) {
            a.require_diag();
            const Index nrhs = a.nrhs_of(b);
            if (x.ndim() != b.ndim() || x.size() != b.size())
              throw std::invalid_argument("x and b must have the same shape");
            const S* bp = const_data(b, "b");
            S* xp = mutable_data(x, "x");
            const sor::Coloring* col = a.get_coloring(multicolor);
            py::gil_scoped_release release;
            sor::sweep<S, I>(a.view, a.inv_diag.data(), bp, xp, nrhs, S(omega),
                             static_cast<sor::Direction>(direction), iterations, col);
          },
          py::arg("b").noconvert(), py::arg("x").noconvert(), py::arg("omega"),
          py::arg("direction"), py::arg("iterations"), py::arg("multicolor"))
      .def(
          "residual_norm",
          [](B& a, py::array_t<S, 0> b, py::array_t<S, 0> x) {
            const Index nrhs = a.nrhs_of(b);
            std::vector<S> r(b.size());
            const S* bp = const_data(b, "b");
            const S* xp = const_data(x, "x");
            py::gil_scoped_release release;
            return sor::residual<S, I>(a.view, bp, xp, r.data(), nrhs);
          },
          py::arg("b").noconvert(), py::arg("x").noconvert())
      .def(
          "sor_iteration",
          [](std::shared_ptr<B> a, py::array_t<S, 0> b, py::array_t<S, 0> x, double omega,
             double rtol, double atol, Index maxiter, bool symmetric, bool adaptive,
             bool multicolor) {
            a->require_diag();
            const Index nrhs = a->nrhs_of(b);
            if (x.size() != b.size()) throw std::invalid_argument("x and b must have the same shape");
            auto h = std::make_unique<SI>();
            h->A = a;
            h->b = b;
            h->x = x;
            const sor::Coloring* col = a->get_coloring(multicolor);
            const S* bp = const_data(h->b, "b");
            S* xp = mutable_data(h->x, "x");
            auto o = make_opts(omega, rtol, atol, maxiter, symmetric, adaptive);
            py::gil_scoped_release release;
            h->it = std::make_unique<sor::SorIteration<S, I>>(a->view, bp, xp, nrhs, o, col);
            return h;
          },
          py::arg("b").noconvert(), py::arg("x").noconvert(), py::arg("omega"), py::arg("rtol"),
          py::arg("atol"), py::arg("maxiter"), py::arg("symmetric"), py::arg("adaptive"),
          py::arg("multicolor"))
      .def(
          "pcg_iteration",
          [](std::shared_ptr<B> a, py::array_t<S, 0> b, py::array_t<S, 0> x, double omega,
             double rtol, double atol, Index maxiter) {
            a->require_diag();
            if (b.ndim() != 1 || b.shape(0) != a->view.n_rows)
              throw std::invalid_argument("b must be 1-D of length n");
            if (x.size() != b.size()) throw std::invalid_argument("x and b must have the same shape");
            auto h = std::make_unique<PI>();
            h->A = a;
            h->b = b;
            h->x = x;
            const S* bp = const_data(h->b, "b");
            S* xp = mutable_data(h->x, "x");
            auto o = make_opts(omega, rtol, atol, maxiter, false, false);
            py::gil_scoped_release release;
            h->it = std::make_unique<sor::SsorPcgIteration<S, I>>(a->view, bp, xp, o);
            return h;
          },
          py::arg("b").noconvert(), py::arg("x").noconvert(), py::arg("omega"), py::arg("rtol"),
          py::arg("atol"), py::arg("maxiter"))
      .def(
          "ssor_apply",
          [](B& a, py::array_t<S, 0> r, py::array_t<S, 0> z, double omega) {
            a.require_diag();
            const Index nrhs = a.nrhs_of(r);
            if (z.size() != r.size()) throw std::invalid_argument("r and z must have the same shape");
            const S* rp = const_data(r, "r");
            S* zp = mutable_data(z, "z");
            py::gil_scoped_release release;
            sor::ssor_apply<S, I>(a.view, a.inv_diag.data(), S(omega), rp, zp, nrhs);
          },
          py::arg("r").noconvert(), py::arg("z").noconvert(), py::arg("omega"));
}

}  // namespace

void bind_sor(py::module_ m) {
  register_csr<double, std::int32_t>(m, "float64_int32");
  register_csr<double, std::int64_t>(m, "float64_int64");
  register_csr<float, std::int32_t>(m, "float32_int32");
  register_csr<float, std::int64_t>(m, "float32_int64");
  m.def("set_num_threads", &sor::set_num_threads, py::arg("n"),
        "Set the number of OpenMP threads of the cores (no-op without OpenMP).");
}

}  // namespace adasolve_bind
