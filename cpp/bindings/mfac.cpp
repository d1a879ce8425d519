// pybind11 bindings for the mfac family: array conversion, GIL release, errors only.
//
// Arrays are taken without conversion (`noconvert`): the Python layer has already validated
// dtype, shape, C-contiguity and finiteness. StaticIHVP keeps a raw pointer to `grads`;
// `py::keep_alive` ties the NumPy array's lifetime to the C++ object.
#include "bindings.hpp"

#include <string>

#include "adasolve/mfac.hpp"

namespace adasolve_bind {

namespace {

using adasolve::Index;
namespace mf = adasolve::mfac;

template <class S>
using Arr = py::array_t<S, 0>;

template <class S>
const S* cptr(const Arr<S>& a, const char* name, Index ndim_max, Index last) {
  if (!(a.flags() & py::array::c_style))
    throw std::invalid_argument(std::string(name) + " must be C-contiguous");
  if (a.ndim() < 1 || a.ndim() > ndim_max || a.shape(a.ndim() - 1) != last)
    throw std::invalid_argument(std::string(name) + " has the wrong shape");
  return a.data();
}

template <class S>
S* mptr(Arr<S>& a, const char* name, Index n) {
  if (!(a.flags() & py::array::c_style) || !a.writeable() || a.size() != n)
    throw std::invalid_argument(std::string(name) + " must be a writeable C-contiguous output");
  return a.mutable_data();
}

// F^-1 V for one vector (d,) or a batch (k, d), into `out`; the same for both classes
template <class T, class S>
void ihvp(const T& self, const Arr<S>& V, Arr<S>& X) {
  const S* v = cptr<S>(V, "v", 2, self.dim());
  const Index k = V.ndim() == 2 ? V.shape(0) : 1;
  S* x = mptr<S>(X, "out", k * self.dim());
  py::gil_scoped_release nogil;
  self.ihvp(v, k, x);
}

// Block layout from the Python arguments: `sizes` (None or a 1-D int64 array of block sizes)
// wins over the uniform `block_size`.
mf::BlockLayout layout_of(Index d, Index block_size, const py::object& sizes) {
  if (sizes.is_none()) return mf::BlockLayout::uniform(d, block_size);
  auto a = sizes.cast<py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>>();
  std::vector<Index> v(a.data(), a.data() + a.size());
  mf::BlockLayout l = mf::BlockLayout::from_sizes(v);
  if (l.d != d)
    throw std::invalid_argument("block sizes sum to " + std::to_string(l.d) + ", not to the dimension " +
                                std::to_string(d));
  return l;
}

py::array_t<double> to_array(const mf::MatrixXdR& A) {
  py::array_t<double> a({A.rows(), A.cols()});
  std::copy(A.data(), A.data() + A.size(), a.mutable_data());
  return a;
}

mf::MatrixXdR from_array(const py::handle& h) {
  auto a = py::cast<py::array_t<double, py::array::c_style | py::array::forcecast>>(h);
  if (a.ndim() != 2) throw std::invalid_argument("state: block matrices must be 2-D");
  mf::MatrixXdR A(a.shape(0), a.shape(1));
  std::copy(a.data(), a.data() + a.size(), A.data());
  return A;
}

py::list block_sizes(const mf::BlockLayout& layout) {
  py::list v;
  for (Index b = 0; b < layout.count(); ++b) v.append(layout.width(b));
  return v;
}

template <class S>
void bind_type(py::module_& m, const std::string& suffix) {
  using St = mf::StaticIHVP<S>;
  using Sl = mf::SlidingIHVP<S>;

  py::class_<St>(m, ("Static" + suffix).c_str())
      .def(py::init([](const Arr<S>& grads, double damp, Index block_size, py::object sizes,
                       double damp_growth) {
             if (grads.ndim() != 2 || !(grads.flags() & py::array::c_style))
               throw std::invalid_argument("grads must be a C-contiguous 2-D array");
             const S* p = grads.data();
             const Index m = grads.shape(0), d = grads.shape(1);
             const mf::BlockLayout layout = layout_of(d, block_size, sizes);
             py::gil_scoped_release nogil;
             return new St(p, m, d, damp, layout, damp_growth);
           }),
           py::arg("grads").noconvert(), py::arg("damp"), py::arg("block_size"),
           py::arg("block_sizes") = py::none(), py::arg("damp_growth") = 0.0,
           py::keep_alive<1, 2>())
      .def_property_readonly("damp", &St::damp)
      .def_property_readonly("damp_raises", &St::damp_raises)
      .def_property_readonly("block_sizes", [](const St& self) { return block_sizes(self.layout()); })
      .def_property_readonly("m", &St::m)
      .def_property_readonly("dim", &St::dim)
      .def_property_readonly("block_size", &St::block_size)
      .def("ihvp",
           &ihvp<St, S>,
           py::arg("v").noconvert(), py::arg("out").noconvert())
      .def("quad",
           [](const St& self, const Arr<S>& V, Arr<double>& out) {
             const S* v = cptr<S>(V, "v", 2, self.dim());
             const Index k = V.ndim() == 2 ? V.shape(0) : 1;
             double* o = mptr<double>(out, "out", k);
             py::gil_scoped_release nogil;
             self.quad(v, k, o);
           },
           py::arg("v").noconvert(), py::arg("out").noconvert())
      .def("diag",
           [](St& self, Arr<double>& out) {
             double* o = mptr<double>(out, "out", self.dim());
             py::gil_scoped_release nogil;
             self.diag(o);
           },
           py::arg("out").noconvert())
      .def("element",
           [](St& self, Index i, Index j) {
             if (!self.elements_prepared()) {
               // O(d m^2) once: run without the GIL
               py::gil_scoped_release nogil;
               self.prepare_elements();
             }
             return self.element(i, j);
           },
           py::arg("i"), py::arg("j"))
      .def("elements",
           [](St& self, const py::array_t<std::int64_t, 0>& I, const py::array_t<std::int64_t, 0>& J,
              Arr<double>& out) {
             // [F^-1]_{I[t], J[t]} for index arrays checked in Python (range and shape)
             if (I.ndim() != 1 || J.ndim() != 1 || I.shape(0) != J.shape(0) ||
                 !(I.flags() & py::array::c_style) || !(J.flags() & py::array::c_style))
               throw std::invalid_argument("i and j must be C-contiguous 1-D arrays of one length");
             const Index n = I.shape(0);
             double* o = mptr<double>(out, "out", n);
             const std::int64_t *pi = I.data(), *pj = J.data();
             py::gil_scoped_release nogil;
             self.prepare_elements();
             for (Index t = 0; t < n; ++t) o[t] = self.element(pi[t], pj[t]);
           },
           py::arg("i").noconvert(), py::arg("j").noconvert(), py::arg("out").noconvert())
      .def("prepare_elements", &St::prepare_elements,
           py::call_guard<py::gil_scoped_release>());

  py::class_<Sl>(m, ("Sliding" + suffix).c_str())
      .def(py::init([](Index d, Index m, double damp, Index block_size, py::object sizes,
                       double damp_growth) {
             const mf::BlockLayout layout = layout_of(d, block_size, sizes);
             py::gil_scoped_release nogil;
             return new Sl(m, damp, layout, damp_growth);
           }),
           py::arg("dim"), py::arg("m"), py::arg("damp"), py::arg("block_size"),
           py::arg("block_sizes") = py::none(), py::arg("damp_growth") = 0.0)
      .def_property_readonly("damp", &Sl::damp)
      .def_property_readonly("damp_raises", &Sl::damp_raises)
      .def_property_readonly("block_sizes", [](const Sl& self) { return block_sizes(self.layout()); })
      .def("get_state",
           [](const Sl& self) {
             // exact state (copies): buffer, slot, count, damp, damp_raises, and per block the
             // Gram matrix, the factor and the rounding budget spent
             py::array_t<S> buf({self.m(), self.dim()});
             std::copy(self.buffer(), self.buffer() + self.m() * self.dim(), buf.mutable_data());
             py::list grams, factors;
             std::vector<double> drift;
             for (Index b = 0; b < self.layout().count(); ++b) {
               grams.append(to_array(self.block_gram(b)));
               factors.append(to_array(self.block_factor(b)));
               drift.push_back(self.block_drift(b));
             }
             py::array_t<double> dr(static_cast<py::ssize_t>(drift.size()));
             std::copy(drift.begin(), drift.end(), dr.mutable_data());
             return py::make_tuple(buf, self.slot(), self.count(), self.damp(), self.damp_raises(),
                                   grams, factors, dr);
           })
      .def("set_state",
           [](Sl& self, const Arr<S>& G, Index slot, Index count, double damp, Index raises,
              py::sequence grams, py::sequence factors, py::array_t<double, py::array::c_style | py::array::forcecast> drift) {
             if (!(G.flags() & py::array::c_style) || G.ndim() != 2 || G.shape(0) != self.m() ||
                 G.shape(1) != self.dim())
               throw std::invalid_argument("buffer must be a C-contiguous (m, d) array");
             std::vector<mf::MatrixXdR> gr, fa;
             for (auto h : grams) gr.push_back(from_array(h));
             for (auto h : factors) fa.push_back(from_array(h));
             std::vector<double> dv(drift.data(), drift.data() + drift.size());
             py::gil_scoped_release nogil;
             self.set_state(G.data(), slot, count, damp, raises, gr, fa, dv);
           },
           py::arg("buffer").noconvert(), py::arg("slot"), py::arg("count"), py::arg("damp"),
           py::arg("damp_raises"), py::arg("grams"), py::arg("factors"), py::arg("drift"))
      .def_property_readonly("m", &Sl::m)
      .def_property_readonly("dim", &Sl::dim)
      .def_property_readonly("block_size", &Sl::block_size)
      .def_property_readonly("count", &Sl::count)
      .def_property_readonly("slot", &Sl::slot)
      .def("buffer",
           [](py::object self_obj) {
             const Sl& self = self_obj.cast<const Sl&>();
             // read-only view of the ring buffer, alive as long as the object
             py::array_t<S> a({self.m(), self.dim()}, {sizeof(S) * self.dim(), sizeof(S)},
                              self.buffer(), self_obj);
             py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
             return a;
           })
      .def("update",
           [](Sl& self, const Arr<S>& g) {
             const S* p = cptr<S>(g, "g", 1, self.dim());
             py::gil_scoped_release nogil;
             self.update(p);
           },
           py::arg("g").noconvert())
      .def("ihvp",
           &ihvp<Sl, S>,
           py::arg("v").noconvert(), py::arg("out").noconvert())
      .def("update_and_ihvp",
           [](Sl& self, const Arr<S>& g, py::object v, Arr<S>& X) {
             const S* pg = cptr<S>(g, "g", 1, self.dim());
             const S* pv = nullptr;
             Arr<S> varr;
             if (!v.is_none()) {
               varr = v.cast<Arr<S>>();
               pv = cptr<S>(varr, "v", 1, self.dim());
             }
             S* x = mptr<S>(X, "out", self.dim());
             py::gil_scoped_release nogil;
             self.update_and_ihvp(pg, pv, x);
           },
           py::arg("g").noconvert(), py::arg("v"), py::arg("out").noconvert())
      .def("reset", &Sl::reset, py::call_guard<py::gil_scoped_release>())
      .def("restore",
           [](Sl& self, const Arr<S>& G, Index slot, Index count) {
             if (!(G.flags() & py::array::c_style) || G.ndim() != 2 || G.shape(0) != self.m() ||
                 G.shape(1) != self.dim())
               throw std::invalid_argument("buffer must be a C-contiguous (m, d) array");
             const S* p = G.data();
             py::gil_scoped_release nogil;
             self.restore(p, slot, count);
           },
           py::arg("buffer").noconvert(), py::arg("slot"), py::arg("count"));
}

}  // namespace

void bind_mfac(py::module_ m) {
  bind_type<float>(m, "F32");
  bind_type<double>(m, "F64");
}

}  // namespace adasolve_bind
