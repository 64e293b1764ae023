// tiny_nanobind.cpp — tiny_op.h bound with nanobind.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include "tiny_op.h"

namespace nb = nanobind;

NB_MODULE(tiny_nanobind, m) {
  m.def("add", &tiny_add);
  m.def("sum", [](nb::ndarray<const float, nb::ndim<1>, nb::c_contig, nb::device::cpu> x) {
    return tiny_sum(x.data(), x.shape(0));
  });
}
