// pybind11 bindings for the working-set GLM solver (adasolve::bcd::glm_solve): array
// checks, option parsing, GIL release. Designs are borrowed, never copied.
#include <string>

#include "bindings.hpp"

#include "adasolve/bcd/glm.hpp"

namespace adasolve_bind {

namespace {

using adasolve::Index;
namespace bcd = adasolve::bcd;

// `sw_len` receives the length of the sample_weight array (-1 without one); the array itself is
// borrowed from `kw`, which outlives the solve.
bcd::GlmOptions parse_options(const py::kwargs& kw, py::ssize_t& sw_len) {
  bcd::GlmOptions o;
  sw_len = -1;
  for (auto item : kw) {
    const std::string key = py::str(item.first);
    py::handle v = item.second;
    if (key == "loss") {
      const std::string s = py::str(v);
      if (s == "quadratic") o.loss = bcd::GlmLoss::quadratic;
      else if (s == "logistic") o.loss = bcd::GlmLoss::logistic;
      else throw std::invalid_argument("loss must be 'quadratic' or 'logistic', got '" + s + "'");
    } else if (key == "rule") {
      // parsed once in Python (adasolve.bcd.engine._option); here only the enum is taken
      if (!py::isinstance<bcd::Rule>(v))
        throw std::invalid_argument("rule must be one of Rule.cyclic, Rule.gs, Rule.gsl "
                                    "(adasolve._core.bcd.Rule), got " + std::string(py::repr(v)));
      o.rule = v.cast<bcd::Rule>();
    } else if (key == "data_scale") o.data_scale = v.cast<double>();
    else if (key == "l1") o.l1 = v.cast<double>();
    else if (key == "l2") o.l2 = v.cast<double>();
    else if (key == "fit_intercept") o.fit_intercept = v.cast<bool>();
    else if (key == "tol") o.tol = v.cast<double>();
    else if (key == "max_outer") o.max_outer = v.cast<Index>();
    else if (key == "max_epochs") o.max_epochs = v.cast<Index>();
    else if (key == "ws_start") o.ws_start = v.cast<Index>();
    else if (key == "anderson") o.anderson = v.cast<bool>();
    else if (key == "anderson_k") o.anderson_k = v.cast<int>();
    else if (key == "inner_frac") o.inner_frac = v.cast<double>();
    else if (key == "positive") o.positive = v.cast<bool>();
    else if (key == "step_tol") o.step_tol = v.cast<double>();
    else if (key == "screening") o.screening = v.cast<bool>();
    else if (key == "state") continue;  // read by solve_with
    else if (key == "shuffle") o.shuffle = v.cast<bool>();
    else if (key == "seed") o.seed = v.cast<std::uint64_t>();
    else if (key == "sample_weight") {
      if (v.is_none()) continue;
      if (!py::isinstance<py::array>(v))
        throw std::invalid_argument("sample_weight must be a float64 numpy array");
      auto a = py::reinterpret_borrow<py::array>(v);
      if (!a.dtype().is(py::dtype::of<double>()) || a.ndim() != 1 ||
          !(a.flags() & py::array::c_style))
        throw std::invalid_argument("sample_weight must be a contiguous 1-D float64 array");
      o.sample_weight = static_cast<const double*>(a.data());
      sw_len = a.shape(0);
    }
    else throw std::invalid_argument("unknown option '" + key + "'");
  }
  return o;
}

py::dict result_dict(const bcd::GlmResult& r, double intercept) {
  py::dict d;
  d["n_outer"] = r.n_outer;
  d["n_epochs"] = r.n_epochs;
  d["gap"] = r.gap;
  d["primal"] = r.primal;
  d["dual"] = r.dual;
  d["info"] = r.info;
  d["intercept"] = intercept;
  d["gap_history"] = py::array_t<double>(static_cast<py::ssize_t>(r.gap_history.size()),
                                         r.gap_history.data());
  return d;
}

const double* vec_in(const py::array_t<double, 0>& a, Index n, const char* name) {
  if (a.ndim() != 1 || a.shape(0) != n || !(a.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(name) + " must be a contiguous float64 vector of length " +
                                std::to_string(n));
  return a.data();
}

double* vec_out(py::array_t<double, 0>& a, Index n, const char* name) {
  if (!a.writeable()) throw std::invalid_argument(std::string(name) + " must be writeable");
  return const_cast<double*>(vec_in(a, n, name));
}

bcd::DenseColMajor dense_view(const py::array_t<double, 0>& X) {
  if (X.ndim() != 2 || !(X.flags() & py::array::f_style))
    throw std::invalid_argument("X must be a 2-D Fortran-ordered (column-major) float64 array");
  return {static_cast<Index>(X.shape(0)), static_cast<Index>(X.shape(1)), X.data()};
}

template <class I>
bcd::CscView<I> csc_view(Index n, Index p, const py::array_t<I, 0>& indptr,
                         const py::array_t<I, 0>& indices, const py::array_t<double, 0>& data) {
  const bool ok = (indptr.flags() & py::array::c_style) && (indices.flags() & py::array::c_style) &&
                  (data.flags() & py::array::c_style) && indptr.ndim() == 1 &&
                  indptr.shape(0) == p + 1 && indices.ndim() == 1 && data.ndim() == 1 &&
                  indices.shape(0) == data.shape(0);
  if (!ok) throw std::invalid_argument("CSC arrays must be contiguous with len(indptr) == p + 1");
  adasolve::check_compressed<I>("X", "row", p, n, indptr.data(), indptr.shape(0), indices.data(),
                                indices.shape(0));
  return {n, p, indptr.data(), indices.data(), data.data()};
}

// The resumable state as a plain dict of Python values / NumPy arrays (None when not cut).
py::object state_to_py(const bcd::GlmState& st) {
  if (!st.valid) return py::none();
  py::dict d;
  py::array_t<std::int64_t> ws(static_cast<py::ssize_t>(st.ws.size()));
  for (size_t k = 0; k < st.ws.size(); ++k) ws.mutable_data()[k] = st.ws[k];
  d["ws"] = ws;
  d["inner_tol"] = st.inner_tol;
  d["need_step"] = st.need_step;
  d["last_ws"] = st.last_ws;
  d["ep"] = st.ep;
  d["n_snaps"] = st.n_snaps;
  d["snaps"] = py::array_t<double>(static_cast<py::ssize_t>(st.snaps.size()), st.snaps.data());
  return d;
}

bcd::GlmState state_from_py(py::handle h) {
  bcd::GlmState st;
  if (h.is_none()) return st;
  if (!py::isinstance<py::dict>(h)) throw std::invalid_argument("state must be a dict or None");
  auto d = py::reinterpret_borrow<py::dict>(h);
  auto ws = d["ws"].cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
  auto snaps = d["snaps"].cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
  st.ws.assign(ws.data(), ws.data() + ws.size());
  st.snaps.assign(snaps.data(), snaps.data() + snaps.size());
  st.inner_tol = d["inner_tol"].cast<double>();
  st.need_step = d["need_step"].cast<bool>();
  st.last_ws = d["last_ws"].cast<Index>();
  st.ep = d["ep"].cast<Index>();
  st.n_snaps = d["n_snaps"].cast<int>();
  st.valid = true;  // checked against the problem by the solver, ignored when it does not fit
  return st;
}

template <class Design>
py::dict solve_with(const Design& X, const py::array_t<double, 0>& y, py::array_t<double, 0>& w,
                    double intercept, const py::kwargs& kw) {
  py::ssize_t sw_len = -1;
  const bcd::GlmOptions o = parse_options(kw, sw_len);
  if (sw_len >= 0 && sw_len != static_cast<py::ssize_t>(X.n_rows))
    throw std::invalid_argument("sample_weight must have one entry per row of X");
  const double* yp = vec_in(y, X.n_rows, "y");
  double* wp = vec_out(w, X.n_cols, "w");
  const bool with_state = kw.contains("state");
  bcd::GlmState st = with_state ? state_from_py(kw["state"]) : bcd::GlmState();
  bcd::GlmResult r;
  {
    py::gil_scoped_release release;
    r = bcd::glm_solve(X, yp, wp, &intercept, o, with_state ? &st : nullptr);
  }
  py::dict d = result_dict(r, intercept);
  d["state"] = state_to_py(st);
  return d;
}

template <class Design>
py::dict gap_with(const Design& X, const py::array_t<double, 0>& y, const py::array_t<double, 0>& w,
                  double intercept, const py::kwargs& kw) {
  py::ssize_t sw_len = -1;
  const bcd::GlmOptions o = parse_options(kw, sw_len);
  if (sw_len >= 0 && sw_len != static_cast<py::ssize_t>(X.n_rows))
    throw std::invalid_argument("sample_weight must have one entry per row of X");
  const double* yp = vec_in(y, X.n_rows, "y");
  const double* wp = vec_in(w, X.n_cols, "w");
  bcd::GlmResult r;
  {
    py::gil_scoped_release release;
    r = bcd::glm_gap(X, yp, wp, intercept, o);
  }
  return result_dict(r, intercept);
}

template <class I>
void def_csc(py::module_& m) {
  m.def("solve_csc",
        [](Index n, Index p, const py::array_t<I, 0>& indptr, const py::array_t<I, 0>& indices,
           const py::array_t<double, 0>& data, const py::array_t<double, 0>& y,
           py::array_t<double, 0> w, double intercept, const py::kwargs& kw) {
          return solve_with(csc_view<I>(n, p, indptr, indices, data), y, w, intercept, kw);
        },
        py::arg("n"), py::arg("p"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
        py::arg("data").noconvert(), py::arg("y").noconvert(), py::arg("w").noconvert(),
        py::arg("intercept"));
  m.def("gap_csc",
        [](Index n, Index p, const py::array_t<I, 0>& indptr, const py::array_t<I, 0>& indices,
           const py::array_t<double, 0>& data, const py::array_t<double, 0>& y,
           const py::array_t<double, 0>& w, double intercept, const py::kwargs& kw) {
          return gap_with(csc_view<I>(n, p, indptr, indices, data), y, w, intercept, kw);
        },
        py::arg("n"), py::arg("p"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
        py::arg("data").noconvert(), py::arg("y").noconvert(), py::arg("w").noconvert(),
        py::arg("intercept"));
}

// ---- general datafits / penalties and the group solver ------------------------------------

const double* opt_vec(const py::kwargs& kw, const char* key, Index n) {
  if (!kw.contains(key) || kw[key].is_none()) return nullptr;
  py::handle v = kw[key];
  if (!py::isinstance<py::array>(v)) throw std::invalid_argument(std::string(key) + " must be a float64 numpy array");
  auto a = py::reinterpret_borrow<py::array>(v);
  if (!a.dtype().is(py::dtype::of<double>()) || a.ndim() != 1 || a.shape(0) != n ||
      !(a.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(key) + " must be a contiguous float64 vector of length " +
                                std::to_string(n));
  return static_cast<const double*>(a.data());
}

bcd::PenOptions parse_pen(const py::kwargs& kw, Index p) {
  bcd::PenOptions o;
  for (auto item : kw) {
    const std::string key = py::str(item.first);
    py::handle v = item.second;
    if (key == "datafit") {
      const std::string s = py::str(v);
      if (s == "quadratic") o.datafit = bcd::Datafit::quadratic;
      else if (s == "huber") o.datafit = bcd::Datafit::huber;
      else if (s == "poisson") o.datafit = bcd::Datafit::poisson;
      else throw std::invalid_argument("datafit must be 'quadratic', 'huber' or 'poisson', got '" + s + "'");
    } else if (key == "penalty") {
      const std::string s = py::str(v);
      if (s == "l1") o.penalty = bcd::PenaltyKind::l1;
      else if (s == "mcp") o.penalty = bcd::PenaltyKind::mcp;
      else if (s == "scad") o.penalty = bcd::PenaltyKind::scad;
      else throw std::invalid_argument("penalty must be 'l1', 'mcp' or 'scad', got '" + s + "'");
    } else if (key == "delta") o.delta = v.cast<double>();
    else if (key == "alpha") o.alpha = v.cast<double>();
    else if (key == "gamma") o.gamma = v.cast<double>();
    else if (key == "l2") o.l2 = v.cast<double>();
    else if (key == "positive") o.positive = v.cast<bool>();
    else if (key == "fit_intercept") o.fit_intercept = v.cast<bool>();
    else if (key == "tol") o.tol = v.cast<double>();
    else if (key == "max_outer") o.max_outer = v.cast<Index>();
    else if (key == "max_epochs") o.max_epochs = v.cast<Index>();
    else if (key == "ws_start") o.ws_start = v.cast<Index>();
    else if (key == "inner_frac") o.inner_frac = v.cast<double>();
    else if (key == "weights") o.weights = opt_vec(kw, "weights", p);
    else throw std::invalid_argument("unknown option '" + key + "'");
  }
  return o;
}

template <class Design>
py::dict pen_with(const Design& X, const py::array_t<double, 0>& y, py::array_t<double, 0>& w,
                  double intercept, const py::kwargs& kw) {
  const bcd::PenOptions o = parse_pen(kw, X.n_cols);
  const double* yp = vec_in(y, X.n_rows, "y");
  double* wp = vec_out(w, X.n_cols, "w");
  bcd::PenResult r;
  {
    py::gil_scoped_release release;
    r = bcd::pen_solve(X, yp, wp, &intercept, o);
  }
  py::dict d;
  d["n_outer"] = r.n_outer;
  d["n_epochs"] = r.n_epochs;
  d["kkt"] = r.kkt;
  d["objective"] = r.objective;
  d["info"] = r.info;
  d["intercept"] = intercept;
  return d;
}

// Y: (n, T) Fortran order; W: (p, T) C order; b: (T,)
template <class Design>
py::dict group_with(const Design& X, const py::array_t<double, 0>& Y, py::array_t<double, 0>& W,
                    py::array_t<double, 0>& b, const py::array_t<std::int64_t, 0>& grp_ptr,
                    const py::array_t<std::int64_t, 0>& grp_indices, const py::kwargs& kw) {
  if (Y.ndim() != 2 || Y.shape(0) != X.n_rows || !(Y.flags() & py::array::f_style))
    throw std::invalid_argument("Y must be a Fortran-ordered (n_samples, n_tasks) float64 array");
  const Index T = Y.shape(1);
  if (W.ndim() != 2 || W.shape(0) != X.n_cols || W.shape(1) != T || !(W.flags() & py::array::c_style) ||
      !W.writeable())
    throw std::invalid_argument("W must be a writeable C-ordered (n_features, n_tasks) float64 array");
  double* bp = vec_out(b, T, "intercepts");
  if (grp_ptr.ndim() != 1 || grp_ptr.shape(0) < 1 || !(grp_ptr.flags() & py::array::c_style) ||
      grp_indices.ndim() != 1 || !(grp_indices.flags() & py::array::c_style))
    throw std::invalid_argument("grp_ptr and grp_indices must be contiguous int64 vectors");
  bcd::GroupOptions o;
  o.n_tasks = T;
  o.n_groups = grp_ptr.shape(0) - 1;
  o.grp_ptr = grp_ptr.data();
  o.grp_indices = grp_indices.data();
  if (o.grp_ptr[0] != 0 || o.grp_ptr[o.n_groups] != grp_indices.shape(0))
    throw std::invalid_argument("grp_ptr must start at 0 and end at len(grp_indices)");
  for (auto item : kw) {
    const std::string key = py::str(item.first);
    py::handle v = item.second;
    if (key == "alpha") o.alpha = v.cast<double>();
    else if (key == "fit_intercept") o.fit_intercept = v.cast<bool>();
    else if (key == "tol") o.tol = v.cast<double>();
    else if (key == "max_outer") o.max_outer = v.cast<Index>();
    else if (key == "max_epochs") o.max_epochs = v.cast<Index>();
    else if (key == "ws_start") o.ws_start = v.cast<Index>();
    else if (key == "inner_frac") o.inner_frac = v.cast<double>();
    else if (key == "weights") o.weights = opt_vec(kw, "weights", o.n_groups);
    else if (key == "sample_weight") o.sample_weight = opt_vec(kw, "sample_weight", X.n_rows);
    else throw std::invalid_argument("unknown option '" + key + "'");
  }
  bcd::GroupResult r;
  {
    py::gil_scoped_release release;
    r = bcd::group_solve(X, Y.data(), const_cast<double*>(W.data()), bp, o);
  }
  py::dict d;
  d["n_outer"] = r.n_outer;
  d["n_epochs"] = r.n_epochs;
  d["gap"] = r.gap;
  d["primal"] = r.primal;
  d["dual"] = r.dual;
  d["info"] = r.info;
  return d;
}

template <class I>
void def_csc_more(py::module_& m) {
  m.def("pen_csc",
        [](Index n, Index p, const py::array_t<I, 0>& indptr, const py::array_t<I, 0>& indices,
           const py::array_t<double, 0>& data, const py::array_t<double, 0>& y,
           py::array_t<double, 0> w, double intercept, const py::kwargs& kw) {
          return pen_with(csc_view<I>(n, p, indptr, indices, data), y, w, intercept, kw);
        },
        py::arg("n"), py::arg("p"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
        py::arg("data").noconvert(), py::arg("y").noconvert(), py::arg("w").noconvert(),
        py::arg("intercept"));
  m.def("group_csc",
        [](Index n, Index p, const py::array_t<I, 0>& indptr, const py::array_t<I, 0>& indices,
           const py::array_t<double, 0>& data, const py::array_t<double, 0>& Y,
           py::array_t<double, 0> W, py::array_t<double, 0> b,
           const py::array_t<std::int64_t, 0>& grp_ptr,
           const py::array_t<std::int64_t, 0>& grp_indices, const py::kwargs& kw) {
          return group_with(csc_view<I>(n, p, indptr, indices, data), Y, W, b, grp_ptr,
                            grp_indices, kw);
        },
        py::arg("n"), py::arg("p"), py::arg("indptr").noconvert(), py::arg("indices").noconvert(),
        py::arg("data").noconvert(), py::arg("Y").noconvert(), py::arg("W").noconvert(),
        py::arg("b").noconvert(), py::arg("grp_ptr").noconvert(),
        py::arg("grp_indices").noconvert());
}

}  // namespace

void bind_bcd_glm(py::module_ m) {
  m.doc() = "working-set coordinate descent for L1(+L2) GLMs (Lasso, ElasticNet, L1 logistic)";
  m.def("solve_dense",
        [](const py::array_t<double, 0>& X, const py::array_t<double, 0>& y,
           py::array_t<double, 0> w, double intercept, const py::kwargs& kw) {
          return solve_with(dense_view(X), y, w, intercept, kw);
        },
        py::arg("X").noconvert(), py::arg("y").noconvert(), py::arg("w").noconvert(),
        py::arg("intercept"),
        "Solve in place (w is the warm start and the result); returns a dict with the intercept, "
        "gap, primal, dual, n_outer, n_epochs, info and gap_history.");
  m.def("gap_dense",
        [](const py::array_t<double, 0>& X, const py::array_t<double, 0>& y,
           const py::array_t<double, 0>& w, double intercept, const py::kwargs& kw) {
          return gap_with(dense_view(X), y, w, intercept, kw);
        },
        py::arg("X").noconvert(), py::arg("y").noconvert(), py::arg("w").noconvert(),
        py::arg("intercept"));
  def_csc<std::int32_t>(m);
  def_csc<std::int64_t>(m);
  m.def("pen_dense",
        [](const py::array_t<double, 0>& X, const py::array_t<double, 0>& y,
           py::array_t<double, 0> w, double intercept, const py::kwargs& kw) {
          return pen_with(dense_view(X), y, w, intercept, kw);
        },
        py::arg("X").noconvert(), py::arg("y").noconvert(), py::arg("w").noconvert(),
        py::arg("intercept"),
        "General datafit (quadratic, huber, poisson) + separable penalty (l1, mcp, scad), in "
        "place; returns a dict with the intercept, kkt, objective, n_outer, n_epochs, info.");
  m.def("group_dense",
        [](const py::array_t<double, 0>& X, const py::array_t<double, 0>& Y,
           py::array_t<double, 0> W, py::array_t<double, 0> b,
           const py::array_t<std::int64_t, 0>& grp_ptr,
           const py::array_t<std::int64_t, 0>& grp_indices, const py::kwargs& kw) {
          return group_with(dense_view(X), Y, W, b, grp_ptr, grp_indices, kw);
        },
        py::arg("X").noconvert(), py::arg("Y").noconvert(), py::arg("W").noconvert(),
        py::arg("b").noconvert(), py::arg("grp_ptr").noconvert(),
        py::arg("grp_indices").noconvert(),
        "Group lasso / multi-task lasso (W: (p, T) C order, b: (T,), both in place); returns a "
        "dict with gap, primal, dual, n_outer, n_epochs, info.");
  def_csc_more<std::int32_t>(m);
  def_csc_more<std::int64_t>(m);
}

}  // namespace adasolve_bind
