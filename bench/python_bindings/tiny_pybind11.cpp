// tiny_pybind11.cpp — tiny_op.h bound with pybind11.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "tiny_op.h"

namespace py = pybind11;

PYBIND11_MODULE(tiny_pybind11, m) {
  m.def("add", &tiny_add);
  m.def("sum", [](py::array_t<float, py::array::c_style> x) {
    if (x.ndim() != 1) throw py::value_error("expected a vector");
    return tiny_sum(x.data(), static_cast<size_t>(x.shape(0)));
  });
}
