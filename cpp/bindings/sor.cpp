// pybind11 bindings for the SOR family: array conversion, GIL release, errors only.
//
// The solvers are free functions that take the CSR arrays of a SciPy matrix as they are (no
// copy, dtype dispatched here), validate A's values while computing its inverse diagonal in
// C++ (one pass), and run the whole solve, a tuner's suggest and observe included, with the
// GIL released. `Csr_<dtype>_<index>` is a prepared matrix (inverse diagonal and colouring
// kept) for the preconditioner and the smoother, which are applied many times.
#include <memory>
#include <string>
#include <vector>

#include "bindings.hpp"

#include "adasolve/common/parallel.hpp"
#include "adasolve/sor.hpp"
#include "adasolve/sor/tuner.hpp"

namespace adasolve_bind {

namespace {

using adasolve::Index;
namespace sor = adasolve::sor;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

py::tuple report_tuple(const sor::SolveReport& r) {
  return py::make_tuple(r.info, r.nit, r.resid, r.r0, r.omega, r.convergence_factor, r.n_checks,
                        r.spectral_radius_jacobi, int(r.why));
}

template <class S>
S* mutable_data(const py::array& a, const char* name) {
  if (!(a.flags() & py::array::c_style) || !a.writeable())
    throw std::invalid_argument(std::string(name) + " must be a writeable C-contiguous array");
  return static_cast<S*>(const_cast<void*>(a.data()));
}

template <class S>
const S* const_data(const py::array& a, const char* name) {
  if (!(a.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(name) + " must be C-contiguous");
  return static_cast<const S*>(a.data());
}

bool is_float(const py::array& a, int size) { return a.dtype().kind() == 'f' && a.itemsize() == size; }
bool is_int(const py::array& a, int size) { return a.dtype().kind() == 'i' && a.itemsize() == size; }

// Call f(S{}, I{}) for the value and index types of a CSR matrix.
template <class F>
decltype(auto) dispatch_csr(const py::array& data, const py::array& indices, const py::array& indptr,
                            F&& f) {
  const bool i32 = is_int(indices, 4) && is_int(indptr, 4);
  const bool i64 = is_int(indices, 8) && is_int(indptr, 8);
  if (!(i32 || i64)) throw py::type_error("A's index arrays must both be int32 or both int64");
  if (is_float(data, 8)) return i32 ? f(double{}, std::int32_t{}) : f(double{}, std::int64_t{});
  if (is_float(data, 4)) return i32 ? f(float{}, std::int32_t{}) : f(float{}, std::int64_t{});
  throw py::type_error("A must have dtype float32 or float64");
}

template <class S, class I>
adasolve::CsrView<S, I> view_of(Index n, const py::array& indptr, const py::array& indices,
                                const py::array& data) {
  return csr_view<S, I>(n, n, py::reinterpret_borrow<py::array_t<I, 0>>(indptr),
                        py::reinterpret_borrow<py::array_t<I, 0>>(indices),
                        py::reinterpret_borrow<py::array_t<S, 0>>(data));
}

template <class S>
void require_dtype(const py::array& a, const char* name) {
  if (!is_float(a, int(sizeof(S))))
    throw py::type_error(std::string(name) + " must have the dtype of A (" +
                         (sizeof(S) == 8 ? "float64" : "float32") + ")");
}

Index nrhs_of(const py::array& b, Index n) {
  if (b.ndim() == 1 && b.shape(0) == n) return 1;
  if (b.ndim() == 2 && b.shape(0) == n && b.shape(1) >= 1) return b.shape(1);
  throw std::invalid_argument("b must have shape (n,) or (n, k) with n = A.shape[0]");
}

// A context for a tuner: None (dim 0), a Python/NumPy float, or anything NumPy turns into a
// float64 array (flattened).
struct Context {
  double one = 0;
  std::vector<double> many;
  Index dim = 0;
  const double* ptr() const { return dim == 0 ? nullptr : (many.empty() ? &one : many.data()); }
};

Context to_context(py::handle h) {
  Context c;
  if (h.is_none()) return c;
  if (PyFloat_Check(h.ptr())) {
    c.one = PyFloat_AS_DOUBLE(h.ptr());
    c.dim = 1;
    return c;
  }
  auto arr = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(h);
  if (!arr) {
    PyErr_Clear();
    throw py::type_error("context must be a real scalar or a 1-D array-like of reals");
  }
  c.many.assign(arr.data(), arr.data() + arr.size());
  c.dim = Index(c.many.size());
  return c;
}

double to_rate(py::handle h) {
  if (h.is_none()) return kNaN;
  return py::cast<double>(h);
}

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

// What solve_sor / ssor_cg hold while the GIL is released.
template <class S, class I>
struct Prepared {
  adasolve::CsrView<S, I> A;
  std::vector<S> inv;
  const S* b = nullptr;
  S* x = nullptr;
  Index nrhs = 1;

  Prepared(Index n, const py::array& indptr, const py::array& indices, const py::array& data,
           const py::array& b_arr, const py::array& x_arr)
      : A(view_of<S, I>(n, indptr, indices, data)) {
    require_dtype<S>(b_arr, "b");
    require_dtype<S>(x_arr, "x0");
    nrhs = nrhs_of(b_arr, n);
    if (x_arr.ndim() != b_arr.ndim() || x_arr.size() != b_arr.size())
      throw std::invalid_argument("x0 must have the shape of b");
    b = const_data<S>(b_arr, "b");
    x = mutable_data<S>(x_arr, "x0");
    inv.resize(size_t(n));
  }
  void check_matrix() { sor::require_ok(sor::inverse_diagonal(A, inv.data()), "A"); }
};

sor::Tuner* as_tuner(py::handle h) {
  if (h.is_none()) return nullptr;
  return py::cast<sor::Tuner*>(h);
}

py::tuple solve_sor_fn(Index n, const py::array& indptr, const py::array& indices,
                       const py::array& data, const py::array& b, const py::array& x, double omega,
                       py::handle tuner_h, py::handle context, double rtol, double atol,
                       Index maxiter, bool symmetric, bool adaptive,
                       std::shared_ptr<sor::Coloring> coloring) {
  sor::Tuner* tuner = as_tuner(tuner_h);
  Context ctx = tuner ? to_context(context) : Context{};
  return dispatch_csr(data, indices, indptr, [&](auto s, auto i) {
    using S = decltype(s);
    using I = decltype(i);
    Prepared<S, I> p(n, indptr, indices, data, b, x);
    const sor::Coloring* col = coloring.get();
    sor::SolveReport rep;
    {
      py::gil_scoped_release release;
      p.check_matrix();
      auto run = [&](double w) {
        return sor::solve<S, I>(p.A, p.inv.data(), p.b, p.x, p.nrhs,
                                make_opts(w, rtol, atol, maxiter, symmetric, adaptive), col);
      };
      rep = tuner ? sor::solve_with_tuner(*tuner, ctx.ptr(), ctx.dim, maxiter, run) : run(omega);
    }
    return report_tuple(rep);
  });
}

py::tuple ssor_cg_fn(Index n, const py::array& indptr, const py::array& indices,
                     const py::array& data, const py::array& b, const py::array& x, double omega,
                     py::handle tuner_h, py::handle context, double rtol, double atol,
                     Index maxiter) {
  sor::Tuner* tuner = as_tuner(tuner_h);
  Context ctx = tuner ? to_context(context) : Context{};
  if (b.ndim() != 1) throw std::invalid_argument("b must be 1-D");
  return dispatch_csr(data, indices, indptr, [&](auto s, auto i) {
    using S = decltype(s);
    using I = decltype(i);
    Prepared<S, I> p(n, indptr, indices, data, b, x);
    sor::SolveReport rep;
    {
      py::gil_scoped_release release;
      p.check_matrix();
      auto run = [&](double w) {
        return sor::ssor_pcg<S, I>(p.A, p.inv.data(), p.b, p.x,
                                   make_opts(w, rtol, atol, maxiter, false, false));
      };
      rep = tuner ? sor::solve_with_tuner(*tuner, ctx.ptr(), ctx.dim, maxiter, run) : run(omega);
    }
    return report_tuple(rep);
  });
}

// ------------------------------------------------------------------------------------------
// Resumable iterations (per-iteration callbacks) and the prepared matrix.

template <class S, class I>
struct BoundCsr {
  py::array indptr, indices, data;
  adasolve::CsrView<S, I> view;
  std::vector<S> inv_diag;
  std::shared_ptr<sor::Coloring> coloring;

  BoundCsr(Index n, py::array_t<I, 0> p, py::array_t<I, 0> j, py::array_t<S, 0> v)
      : indptr(p), indices(j), data(v) {
    view = csr_view<S, I>(n, n, p, j, v);
    inv_diag.resize(size_t(n));
    sor::MatrixCheck chk;
    {
      py::gil_scoped_release release;
      chk = sor::inverse_diagonal(view, inv_diag.data());
    }
    sor::require_ok(chk, "A");
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
};

struct SorIterBase {
  virtual ~SorIterBase() = default;
  virtual sor::SolveReport run(Index k) = 0;
  virtual bool finished() const = 0;
  sor::Tuner* tuner = nullptr;
  Context ctx;
  double omega = 1.0;
  Index maxiter = 0;
  bool observed = false;
};

template <class It, class S>
struct SorIterImpl : SorIterBase {
  py::array indptr, indices, data, b, x;
  std::vector<S> inv;
  std::shared_ptr<sor::Coloring> coloring;
  std::unique_ptr<It> it;
  sor::SolveReport run(Index k) override {
    sor::SolveReport r = it->run(k);
    if (it->finished() && tuner && !observed) {
      observed = true;
      const sor::TunerFeedback fb = sor::tuner_feedback(r, maxiter);
      tuner->observe(omega, fb.cost, ctx.ptr(), ctx.dim, fb.rate);
    }
    return r;
  }
  bool finished() const override { return it->finished(); }
};

std::unique_ptr<SorIterBase> make_iteration(bool pcg, Index n, const py::array& indptr,
                                            const py::array& indices, const py::array& data,
                                            const py::array& b, const py::array& x, double omega,
                                            py::handle tuner_h, py::handle context, double rtol,
                                            double atol, Index maxiter, bool symmetric,
                                            bool adaptive,
                                            std::shared_ptr<sor::Coloring> coloring) {
  sor::Tuner* tuner = as_tuner(tuner_h);
  Context ctx = tuner ? to_context(context) : Context{};
  if (pcg && b.ndim() != 1) throw std::invalid_argument("b must be 1-D");
  return dispatch_csr(data, indices, indptr, [&](auto s, auto i) -> std::unique_ptr<SorIterBase> {
    using S = decltype(s);
    using I = decltype(i);
    Prepared<S, I> p(n, indptr, indices, data, b, x);
    double w = omega;
    {
      py::gil_scoped_release release;
      p.check_matrix();
      if (tuner) w = tuner->suggest(ctx.ptr(), ctx.dim);
    }
    const auto opts = make_opts(w, rtol, atol, maxiter, symmetric, adaptive);
    auto fill = [&](auto& h) {
      h->indptr = indptr;
      h->indices = indices;
      h->data = data;
      h->b = b;
      h->x = x;
      h->inv = std::move(p.inv);
      h->coloring = coloring;
      h->tuner = tuner;
      h->ctx = ctx;
      h->omega = w;
      h->maxiter = maxiter;
    };
    if (pcg) {
      auto h = std::make_unique<SorIterImpl<sor::SsorPcgIteration<S, I>, S>>();
      fill(h);
      py::gil_scoped_release release;
      h->it = std::make_unique<sor::SsorPcgIteration<S, I>>(p.A, h->inv.data(), p.b, p.x, opts);
      return h;
    }
    auto h = std::make_unique<SorIterImpl<sor::SorIteration<S, I>, S>>();
    fill(h);
    py::gil_scoped_release release;
    h->it = std::make_unique<sor::SorIteration<S, I>>(p.A, h->inv.data(), p.b, p.x, p.nrhs, opts,
                                                      coloring.get());
    return h;
  });
}

template <class S, class I>
void register_csr(py::module_& m, const std::string& name) {
  using B = BoundCsr<S, I>;
  py::class_<B, std::shared_ptr<B>>(m, ("Csr_" + name).c_str())
      .def(py::init<Index, py::array_t<I, 0>, py::array_t<I, 0>, py::array_t<S, 0>>(),
           py::arg("n"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
           py::arg("data").noconvert())
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
          [](B& a, const py::array& b, const py::array& x, double omega, int direction,
             Index iterations, bool multicolor) {
            require_dtype<S>(b, "b");
            require_dtype<S>(x, "x");
            const Index nrhs = nrhs_of(b, a.view.n_rows);
            if (x.ndim() != b.ndim() || x.size() != b.size())
              throw std::invalid_argument("x and b must have the same shape");
            const S* bp = const_data<S>(b, "b");
            S* xp = mutable_data<S>(x, "x");
            const sor::Coloring* col = a.get_coloring(multicolor);
            py::gil_scoped_release release;
            sor::sweep<S, I>(a.view, a.inv_diag.data(), bp, xp, nrhs, S(omega),
                             static_cast<sor::Direction>(direction), iterations, col);
          },
          py::arg("b"), py::arg("x"), py::arg("omega"), py::arg("direction"),
          py::arg("iterations"), py::arg("multicolor"))
      .def(
          "ssor_apply",
          [](B& a, const py::array& r, const py::array& z, double omega) {
            require_dtype<S>(r, "r");
            require_dtype<S>(z, "z");
            const Index nrhs = nrhs_of(r, a.view.n_rows);
            if (z.size() != r.size()) throw std::invalid_argument("r and z must have the same shape");
            const S* rp = const_data<S>(r, "r");
            S* zp = mutable_data<S>(z, "z");
            py::gil_scoped_release release;
            sor::ssor_apply<S, I>(a.view, a.inv_diag.data(), S(omega), rp, zp, nrhs);
          },
          py::arg("r"), py::arg("z"), py::arg("omega"));
}

std::vector<double> to_vector(const py::handle& h, const char* name) {
  auto arr = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(h);
  if (!arr) {
    PyErr_Clear();
    throw py::type_error(std::string(name) + " must be an array of floats");
  }
  return std::vector<double>(arr.data(), arr.data() + arr.size());
}

py::array_t<double> to_array(const std::vector<double>& v) {
  return py::array_t<double>(py::ssize_t(v.size()), v.data());
}

void bind_tuners(py::module_& m) {
  m.def("young_omega", &sor::young_omega, py::arg("mu"),
        "Young's optimal SOR factor 2 / (1 + sqrt(1 - mu^2)).");
  m.def("young_mu2", &sor::young_mu2, py::arg("omega"), py::arg("rate"),
        "Young's mu^2 from an observed SOR factor at omega; NaN when uninformative.");
  py::enum_<sor::TunerAlgorithm>(m, "TunerAlgorithm")
      .value("auto", sor::TunerAlgorithm::Auto)
      .value("tsallis_inf", sor::TunerAlgorithm::TsallisInf)
      .value("exp3", sor::TunerAlgorithm::Exp3)
      .value("ucb", sor::TunerAlgorithm::Ucb);
  py::class_<sor::Tuner>(m, "Tuner")
      .def("save", [](const sor::Tuner& t) { return to_array(t.save()); })
      .def(
          "time_steps",
          [](sor::Tuner& t, Index steps, double context) {
            // Benchmark hook: seconds per suggest + observe pair as the C++ solve loop makes
            // them (no Python in between), on a smooth synthetic cost.
            py::gil_scoped_release release;
            const double t0 = adasolve::parallel::now_seconds();
            for (Index k = 0; k < steps; ++k) {
              const double w = t.suggest(&context, 1);
              t.observe(w, 20.0 + 100.0 * (w - 1.5) * (w - 1.5), &context, 1, 0.5);
            }
            return (adasolve::parallel::now_seconds() - t0) / double(std::max<Index>(steps, 1));
          },
          py::arg("steps"), py::arg("context") = 0.5)
      .def("load", [](sor::Tuner& t, py::handle s) { t.load(to_vector(s, "state")); });

  using OT = sor::OmegaTuner;
  py::class_<OT, sor::Tuner>(m, "OmegaTuner")
      .def(py::init([](py::handle omegas, sor::TunerAlgorithm alg, std::uint64_t seed) {
             return std::make_unique<OT>(to_vector(omegas, "omegas"), alg, seed);
           }),
           py::arg("omegas"), py::arg("algorithm"), py::arg("seed"))
      .def("suggest", [](OT& t) { return t.suggest(nullptr, 0); })
      .def("observe",
           [](OT& t, double omega, double cost, py::handle rate) {
             t.observe(omega, cost, nullptr, 0, to_rate(rate));
           },
           py::arg("omega"), py::arg("cost"), py::arg("rate") = py::none())
      .def_property_readonly("best_omega", &OT::best_omega)
      .def_property_readonly("observations", &OT::observations)
      .def_property_readonly("omegas", [](const OT& t) { return to_array(t.omegas()); })
      .def_property_readonly("probabilities", [](const OT& t) { return to_array(t.probabilities()); })
      .def_property_readonly("young_samples", &OT::young_samples)
      .def("history", [](const OT& t) {
        return py::make_tuple(to_array(t.history_omega()), to_array(t.history_cost()));
      });

  using CT = sor::ContextualOmegaTuner;
  py::class_<CT, sor::Tuner>(m, "ContextualOmegaTuner")
      .def(py::init([](py::handle omegas, sor::TunerAlgorithm alg, Index bins, Index degree,
                       double lo, double hi, bool fixed, std::uint64_t seed) {
             return std::make_unique<CT>(to_vector(omegas, "omegas"), alg, bins, degree, lo, hi,
                                         fixed, seed);
           }),
           py::arg("omegas"), py::arg("algorithm"), py::arg("bins"), py::arg("degree"),
           py::arg("lo"), py::arg("hi"), py::arg("fixed_range"), py::arg("seed"))
      .def("suggest",
           [](CT& t, py::handle context) {
             Context c = to_context(context);
             return t.suggest(c.ptr(), c.dim);
           })
      .def("observe",
           [](CT& t, double omega, double cost, py::handle context, py::handle rate) {
             Context c = to_context(context);
             t.observe(omega, cost, c.ptr(), c.dim, to_rate(rate));
           },
           py::arg("omega"), py::arg("cost"), py::arg("context"), py::arg("rate") = py::none())
      .def("best_omega",
           [](const CT& t, py::handle context) {
             Context c = to_context(context);
             return t.best_omega(c.ptr(), c.dim);
           })
      .def("predict",
           [](const CT& t, py::handle context) {
             Context c = to_context(context);
             return t.predict(c.ptr(), c.dim);
           })
      .def_property_readonly("observations", &CT::observations)
      .def_property_readonly("bins", &CT::bins)
      .def_property_readonly("context_range", [](const CT& t) { return py::make_tuple(t.range_lo(), t.range_hi()); })
      .def("history", [](const CT& t) {
        const auto& ptr = t.history_ptr();
        return py::make_tuple(to_array(t.history_omega()), to_array(t.history_cost()),
                              py::array_t<Index>(py::ssize_t(ptr.size()), ptr.data()),
                              to_array(t.history_context()));
      });
}

}  // namespace

void bind_sor(py::module_ m) {
  register_csr<double, std::int32_t>(m, "float64_int32");
  register_csr<double, std::int64_t>(m, "float64_int64");
  register_csr<float, std::int32_t>(m, "float32_int32");
  register_csr<float, std::int64_t>(m, "float32_int64");

  py::class_<sor::Coloring, std::shared_ptr<sor::Coloring>>(m, "Coloring")
      .def_property_readonly("n_colors", &sor::Coloring::n_colors);
  m.def(
      "coloring",
      [](Index n, const py::array& indptr, const py::array& indices) {
        const bool i32 = is_int(indices, 4) && is_int(indptr, 4);
        if (!i32 && !(is_int(indices, 8) && is_int(indptr, 8)))
          throw py::type_error("A's index arrays must both be int32 or both int64");
        // The view checks the index arrays; the values are not read.
        std::shared_ptr<sor::Coloring> out;
        if (i32) {
          auto v = view_of<double, std::int32_t>(n, indptr, indices, py::array_t<double>(indices.size()));
          py::gil_scoped_release release;
          out = std::make_shared<sor::Coloring>(sor::greedy_coloring<std::int32_t>(n, v.indptr, v.indices));
        } else {
          auto v = view_of<double, std::int64_t>(n, indptr, indices, py::array_t<double>(indices.size()));
          py::gil_scoped_release release;
          out = std::make_shared<sor::Coloring>(sor::greedy_coloring<std::int64_t>(n, v.indptr, v.indices));
        }
        return out;
      },
      py::arg("n"), py::arg("indptr"), py::arg("indices"));

  bind_tuners(m);

  m.def("solve_sor", &solve_sor_fn, py::arg("n"), py::arg("indptr"), py::arg("indices"),
        py::arg("data"), py::arg("b"), py::arg("x"), py::arg("omega"), py::arg("tuner"),
        py::arg("context"), py::arg("rtol"), py::arg("atol"), py::arg("maxiter"),
        py::arg("symmetric"), py::arg("adaptive"), py::arg("coloring").none(true),
        "Solve A x = b by SOR/SSOR in place of x; returns (info, nit, resid, r0, omega, factor, "
        "n_checks, mu, why).");
  m.def("ssor_cg", &ssor_cg_fn, py::arg("n"), py::arg("indptr"), py::arg("indices"),
        py::arg("data"), py::arg("b"), py::arg("x"), py::arg("omega"), py::arg("tuner"),
        py::arg("context"), py::arg("rtol"), py::arg("atol"), py::arg("maxiter"),
        "SSOR-preconditioned CG in place of x; returns the solve_sor tuple.");

  py::class_<SorIterBase>(m, "Iteration")
      .def("run",
           [](SorIterBase& h, Index k) {
             sor::SolveReport r;
             {
               py::gil_scoped_release release;
               r = h.run(k);
             }
             return report_tuple(r);
           })
      .def_property_readonly("finished", &SorIterBase::finished)
      .def_property_readonly("omega", [](const SorIterBase& h) { return h.omega; });
  m.def(
      "iteration",
      [](bool pcg, Index n, const py::array& indptr, const py::array& indices, const py::array& data,
         const py::array& b, const py::array& x, double omega, py::handle tuner, py::handle context,
         double rtol, double atol, Index maxiter, bool symmetric, bool adaptive,
         std::shared_ptr<sor::Coloring> coloring) {
        return make_iteration(pcg, n, indptr, indices, data, b, x, omega, tuner, context, rtol,
                              atol, maxiter, symmetric, adaptive, coloring);
      },
      py::arg("pcg"), py::arg("n"), py::arg("indptr"), py::arg("indices"), py::arg("data"),
      py::arg("b"), py::arg("x"), py::arg("omega"), py::arg("tuner"), py::arg("context"),
      py::arg("rtol"), py::arg("atol"), py::arg("maxiter"), py::arg("symmetric"),
      py::arg("adaptive"), py::arg("coloring").none(true),
      "A resumable solve (for per-iteration callbacks); a tuner observes when it finishes.");

  m.def(
      "tuner_feedback",
      [](int info, Index nit, double factor, Index maxiter) {
        sor::SolveReport r;
        r.info = info;
        r.nit = nit;
        r.convergence_factor = factor;
        const sor::TunerFeedback fb = sor::tuner_feedback(r, maxiter);
        return py::make_tuple(fb.cost, fb.rate);
      },
      py::arg("info"), py::arg("nit"), py::arg("factor"), py::arg("maxiter"),
      "(cost, rate) a tuner observes of a solve: maxiter and NaN for a solve stopped early.");
}

}  // namespace adasolve_bind
