// module.cpp — the extension module sdnc._sdnc: the exception type and every binding.
#include "bindings.h"

#include "sdnc/core/parallel.h"

namespace sdnc::python {
namespace {

// sdnc.Error: a ValueError and a RuntimeError at once (most errors are bad input; some are
// refusals at run time), carrying the library's "[where] message".
PyObject* g_error = nullptr;

}  // namespace
}  // namespace sdnc::python

NB_MODULE(_sdnc, m) {
  using namespace sdnc::python;
  m.doc() = "sdnc's C++ core (nanobind). Use the package `sdnc`, not this module.";
  nb::object bases = nb::make_tuple(nb::handle(PyExc_ValueError), nb::handle(PyExc_RuntimeError));
  g_error = PyErr_NewExceptionWithDoc("sdnc.Error",
                                      "An error reported by sdnc's library; the message names where it happened.",
                                      bases.ptr(), nullptr);
  m.attr("Error") = nb::handle(g_error);
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const sdnc::Error& e) {
      PyErr_SetString(g_error, e.what());
    }
  });
  m.def("set_num_threads", &sdnc::set_num_threads, nb::arg("n"),
        "Worker threads for sdnc's kernels (0: SDNC_NUM_THREADS or all cores).");
  m.def("num_threads", &sdnc::num_threads, "Worker threads sdnc's kernels use.");
  bind_tensor(m);
  bind_machine(m);
  bind_io(m);
  bind_train(m);
  bind_pretrained(m);
  bind_sampling(m);
}
