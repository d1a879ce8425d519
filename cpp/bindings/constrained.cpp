// pybind11 bindings for the constrained family: array conversion, GIL release, errors only.
#include "bindings.hpp"

#include <pybind11/eigen.h>
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include <limits>
#include <memory>
#include <optional>

#include "adasolve/constrained.hpp"

namespace adasolve_bind {

namespace sn = adasolve::constrained;
using DenseRef = Eigen::Ref<const sn::DenseMat>;
using VecRef = Eigen::Ref<const Eigen::VectorXd>;

namespace {

// CSR arrays (int32 indices, float64 data, validated in Python) -> Eigen sparse. This is a
// copy, but the KKT assembly needs one anyway and H / G are O(nnz).
sn::SparseMat to_eigen(adasolve::Index rows, adasolve::Index cols,
                       const py::array_t<std::int32_t, 0>& indptr,
                       const py::array_t<std::int32_t, 0>& indices,
                       const py::array_t<double, 0>& data, const char* name) {
  auto v = csr_view<double, std::int32_t>(rows, cols, indptr, indices, data, name);
  return sn::SparseMat(v.eigen());
}

sn::KKTOptions make_opts(sn::Sketch sketch, adasolve::Index sketch_size, double xi_B,
                         double pd_threshold, sn::HessianCheck check, std::uint64_t seed,
                         adasolve::Index cg_iters = 50, double delta_c = 0.0,
                         double shift_hint = 0.0) {
  sn::KKTOptions o;
  o.sketch = sketch;
  o.sketch_size = sketch_size;
  o.xi_B = xi_B;
  o.pd_threshold = pd_threshold;
  o.hessian_check = check;
  o.seed = seed;
  o.cg_iters = cg_iters;
  if (!(delta_c >= 0.0)) throw std::invalid_argument("delta_c must be >= 0");
  o.delta_c = delta_c;
  o.shift_hint = std::isfinite(shift_hint) && shift_hint > 0.0 ? shift_hint : 0.0;
  return o;
}

// A Python callable hessp(p) -> H p as a C++ HessProd: it runs with the GIL taken back
// (the KKT solve releases it), and its result is checked for length and finiteness.
sn::HessProd wrap_hessp(py::function f, adasolve::Index n) {
  return [f = std::move(f), n](const Eigen::VectorXd& p, Eigen::VectorXd& out) {
    py::gil_scoped_acquire gil;
    py::array_t<double> arr(p.size(), p.data());
    py::object res = f(arr);
    auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(res);
    if (!a || a.size() != n)
      throw std::invalid_argument("hessp must return an array of length n (the length of x0)");
    out = Eigen::Map<const Eigen::VectorXd>(a.data(), n);
    if (!out.allFinite()) throw std::invalid_argument("hessp returned a non-finite value");
  };
}

template <class Mat>
void bind_kkt(py::module_& m, const char* name) {
  using K = sn::KKTSystem<Mat>;
  py::class_<K>(m, name)
      .def("solve",
           [](K& self, double tol, adasolve::Index max_steps, double max_seconds) {
             sn::InnerReport r;
             {
               py::gil_scoped_release nogil;
               r = self.solve(tol, max_steps, max_seconds);
             }
             return py::make_tuple(r.steps, r.resid, r.converged);
           },
           py::arg("tol"), py::arg("max_steps"),
           py::arg("max_seconds") = std::numeric_limits<double>::infinity())
      .def_property_readonly("last_timed_out",
                             [](const K& self) { return self.last_report().timed_out; })
      .def_property_readonly("last_overflow",
                             [](const K& self) { return self.last_report().overflow; })
      .def("merit_directional",
           [](const K& self, double eta1, double eta2, std::optional<Eigen::VectorXd> hg) {
             return self.merit_directional(eta1, eta2, hg ? &*hg : nullptr);
           },
           py::arg("eta1"), py::arg("eta2"), py::arg("hg") = py::none())
      .def("warm_start",
           [](K& self, const Eigen::VectorXd& z0) {
             py::gil_scoped_release nogil;
             return self.warm_start(z0);
           },
           py::arg("z0"))
      .def_property_readonly("dx", &K::dx)
      .def_property_readonly("dv", &K::dv)
      .def_property_readonly("shift", &K::shift)
      .def_property_readonly("reduced_min_eig", &K::reduced_min_eig)
      .def_property_readonly("jac_min_sv", &K::jac_min_sv)
      .def_property_readonly("jac_max_sv", &K::jac_max_sv)
      .def_property_readonly("hess_norm", &K::hess_norm)
      .def_property_readonly("kkt_fro_norm", &K::kkt_fro_norm)
      .def_property_readonly("rhs_norm", &K::rhs_norm)
      .def_property_readonly("resid_norm", &K::resid_norm)
      .def_property_readonly("total_steps", &K::total_steps);
}

}  // namespace

void bind_constrained(py::module_ m) {
  py::enum_<sn::Sketch>(m, "Sketch", "Inner solver of the KKT system")
      .value("gaussian", sn::Sketch::Gaussian)
      .value("countsketch", sn::Sketch::CountSketch)
      .value("kaczmarz", sn::Sketch::Kaczmarz)
      .value("exact", sn::Sketch::Exact)
      .value("minres", sn::Sketch::Minres);
  py::enum_<sn::HessianCheck>(m, "HessianCheck", "Test of the reduced Hessian")
      .value("none", sn::HessianCheck::None)
      .value("cholesky", sn::HessianCheck::Cholesky)
      .value("cg", sn::HessianCheck::CG)
      .value("inertia", sn::HessianCheck::Inertia);

  py::class_<sn::SparseKKTCache, std::shared_ptr<sn::SparseKKTCache>>(m, "SparseKKTCache")
      .def(py::init<>())
      .def_readonly("analyses", &sn::SparseKKTCache::analyses)
      .def_readonly("factorizations", &sn::SparseKKTCache::factorizations)
      .def_readonly("factor_nnz", &sn::SparseKKTCache::factor_nnz);

  bind_kkt<sn::DenseMat>(m, "KKTDense");
  bind_kkt<sn::SparseMat>(m, "KKTSparse");

  m.def("kkt_dense",
        [](DenseRef H, DenseRef G, VecRef gl, VecRef c, sn::Sketch sketch,
           adasolve::Index sketch_size, double xi_B, double pd_threshold,
           sn::HessianCheck check, std::uint64_t seed, double delta_c, double shift_hint) {
          auto o = make_opts(sketch, sketch_size, xi_B, pd_threshold, check, seed, 50, delta_c,
                             shift_hint);
          sn::DenseMat Hm = H, Gm = G;
          Eigen::VectorXd g = gl, cc = c;
          py::gil_scoped_release nogil;
          return std::make_unique<sn::KKTSystem<sn::DenseMat>>(Hm, Gm, g, cc, o);
        },
        py::arg("H").noconvert(), py::arg("G").noconvert(), py::arg("grad_l").noconvert(),
        py::arg("c").noconvert(), py::arg("sketch"), py::arg("sketch_size"), py::arg("xi_B"),
        py::arg("pd_threshold"), py::arg("hessian_check"), py::arg("seed"),
        py::arg("delta_c") = 0.0, py::arg("shift_hint") = 0.0);

  m.def("kkt_sparse",
        [](adasolve::Index n, const py::array_t<std::int32_t, 0>& hp,
           const py::array_t<std::int32_t, 0>& hi, const py::array_t<double, 0>& hd,
           adasolve::Index mm, const py::array_t<std::int32_t, 0>& gp,
           const py::array_t<std::int32_t, 0>& gi, const py::array_t<double, 0>& gd, VecRef gl,
           VecRef c, sn::Sketch sketch, adasolve::Index sketch_size, double xi_B,
           double pd_threshold, sn::HessianCheck check, std::uint64_t seed,
           adasolve::Index cg_iters, double delta_c, std::shared_ptr<sn::SparseKKTCache> cache,
           double shift_hint, std::optional<py::function> hessp) {
          auto o = make_opts(sketch, sketch_size, xi_B, pd_threshold, check, seed, cg_iters,
                             delta_c, shift_hint);
          o.cache = std::move(cache);
          if (hessp) o.hessp = wrap_hessp(*hessp, n);
          sn::SparseMat H = to_eigen(n, n, hp, hi, hd, "hess");
          sn::SparseMat G = to_eigen(mm, n, gp, gi, gd, "constraint jac");
          Eigen::VectorXd g = gl, cc = c;
          py::gil_scoped_release nogil;
          return std::make_unique<sn::KKTSystem<sn::SparseMat>>(H, G, g, cc, o);
        },
        py::arg("n"), py::arg("H_indptr"), py::arg("H_indices"), py::arg("H_data"), py::arg("m"),
        py::arg("G_indptr"), py::arg("G_indices"), py::arg("G_data"), py::arg("grad_l").noconvert(),
        py::arg("c").noconvert(), py::arg("sketch"), py::arg("sketch_size"), py::arg("xi_B"),
        py::arg("pd_threshold"), py::arg("hessian_check"), py::arg("seed"),
        py::arg("cg_iters") = 50, py::arg("delta_c") = 0.0, py::arg("cache") = nullptr,
        py::arg("shift_hint") = 0.0, py::arg("hessp") = py::none());

  m.def("predict_kkt_fill",
        [](adasolve::Index n, const py::array_t<std::int32_t, 0>& hp,
           const py::array_t<std::int32_t, 0>& hi, const py::array_t<double, 0>& hd,
           adasolve::Index mm, const py::array_t<std::int32_t, 0>& gp,
           const py::array_t<std::int32_t, 0>& gi, const py::array_t<double, 0>& gd) {
          sn::SparseMat H = to_eigen(n, n, hp, hi, hd, "hess");
          sn::SparseMat G = to_eigen(mm, n, gp, gi, gd, "constraint jac");
          sn::FillEstimate e;
          {
            py::gil_scoped_release nogil;
            e = sn::predict_kkt_fill(H, G);
          }
          return py::make_tuple(e.factor_nnz, e.flops);
        },
        py::arg("n"), py::arg("H_indptr"), py::arg("H_indices"), py::arg("H_data"), py::arg("m"),
        py::arg("G_indptr"), py::arg("G_indices"), py::arg("G_data"),
        "Predicted nonzeros of L and numeric work (sum of squared column counts) of the "
        "sparse LDL^T of the KKT matrix, from its symbolic analysis.");

  m.def("merit_value",
        [](double f, VecRef v, VecRef c, VecRef gl, double eta1, double eta2) {
          return sn::merit_value(f, v, c, gl, eta1, eta2);
        },
        py::arg("f"), py::arg("v").noconvert(), py::arg("c").noconvert(),
        py::arg("grad_l").noconvert(), py::arg("eta1"), py::arg("eta2"));

  m.def("damped_bfgs_update",
        [](Eigen::Ref<sn::DenseMat> B, VecRef s, VecRef y) {
          Eigen::VectorXd ss = s, yy = y;
          py::gil_scoped_release nogil;
          return sn::damped_bfgs_update(B, ss, yy);
        },
        py::arg("B").noconvert(), py::arg("s").noconvert(), py::arg("y").noconvert());

  m.def("sketch_solve",
        [](DenseRef K, VecRef b, sn::Sketch sketch, adasolve::Index sketch_size,
           double rtol, adasolve::Index max_steps, std::uint64_t seed) {
          sn::DenseMat Km = K;
          Eigen::VectorXd bb = b;
          sn::InnerReport rep;
          Eigen::VectorXd z;
          {
            py::gil_scoped_release nogil;
            z = sn::sketch_solve(Km, bb, sketch, sketch_size, rtol, max_steps, seed, &rep);
          }
          return py::make_tuple(z, rep.steps, rep.resid, rep.converged);
        },
        py::arg("K").noconvert(), py::arg("b").noconvert(), py::arg("sketch"),
        py::arg("sketch_size"), py::arg("rtol"), py::arg("max_steps"), py::arg("seed"));
}

}  // namespace adasolve_bind
