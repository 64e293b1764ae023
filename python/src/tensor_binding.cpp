// tensor_binding.cpp — sdnc.Tensor and the array conversions: numpy / torch / any buffer or
// DLPack object → Tensor (shared bytes where the layout allows, a copy otherwise) and Tensor →
// numpy (shared bytes), the buffer protocol and __dlpack__ (so numpy.asarray and
// torch.from_dlpack see the same memory).
#include <Python.h>

#include <memory>
#include <vector>

#include "bindings.h"

namespace sdnc::python {

namespace {

namespace dl = nb::dlpack;

std::string array_dtype_name(dl::dtype t) {
  switch (static_cast<dl::dtype_code>(t.code)) {
    case dl::dtype_code::Int: return fmt::format("int{}", t.bits);
    case dl::dtype_code::UInt: return fmt::format("uint{}", t.bits);
    case dl::dtype_code::Float: return fmt::format("float{}", t.bits);
    case dl::dtype_code::Bfloat: return fmt::format("bfloat{}", t.bits);
    case dl::dtype_code::Complex: return fmt::format("complex{}", t.bits);
    case dl::dtype_code::Bool: return "bool";
  }
  return "unknown";
}

dl::dtype dlpack_dtype(DType t) {
  switch (t) {
    case DType::F32: return nb::dtype<float>();
    case DType::F64: return nb::dtype<double>();
    case DType::I64: return nb::dtype<int64_t>();
    case DType::BF16: break;
  }
  fail("python", "a {} tensor has no numpy dtype", dtype_name(t));
}

// Copies a strided array (strides in elements) into a contiguous tensor.
void copy_strided(const char* src, const std::vector<int64_t>& shape, const std::vector<int64_t>& strides,
                  size_t item, char* dst) {
  const int64_t n = shape_numel(shape);
  const size_t ndim = shape.size();
  std::vector<int64_t> index(ndim, 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t offset = 0;
    for (size_t d = 0; d < ndim; ++d) offset += index[d] * strides[d];
    std::memcpy(dst + flat * item, src + offset * static_cast<int64_t>(item), item);
    for (size_t d = ndim; d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
}

// The buffer protocol on sdnc.Tensor: shape and strides live in view->internal.
struct BufferShape {
  std::vector<Py_ssize_t> shape, strides;
};

int tensor_getbuffer(PyObject* self, Py_buffer* view, int flags) {
  const Tensor& t = *nb::inst_ptr<Tensor>(nb::handle(self));
  static char f32[] = "f", f64[] = "d", i64[] = "q";
  char* format = nullptr;
  switch (t.defined() ? t.dtype() : DType::BF16) {
    case DType::F32: format = f32; break;
    case DType::F64: format = f64; break;
    case DType::I64: format = i64; break;
    case DType::BF16:
      PyErr_SetString(PyExc_BufferError, "[Tensor] no buffer for an undefined or BF16 tensor");
      view->obj = nullptr;
      return -1;
  }
  auto* s = new BufferShape;
  const auto item = static_cast<Py_ssize_t>(dtype_size(t.dtype()));
  Py_ssize_t stride = item;
  s->shape.assign(t.shape().begin(), t.shape().end());
  s->strides.resize(s->shape.size());
  for (size_t d = s->shape.size(); d-- > 0;) {
    s->strides[d] = stride;
    stride *= s->shape[d];
  }
  view->buf = t.raw_data();
  view->obj = self;
  Py_INCREF(self);
  view->len = static_cast<Py_ssize_t>(t.nbytes());
  view->readonly = 0;
  view->itemsize = item;
  view->format = (flags & PyBUF_FORMAT) ? format : nullptr;
  view->ndim = static_cast<int>(s->shape.size());
  view->shape = s->shape.data();
  view->strides = s->strides.data();
  view->suboffsets = nullptr;
  view->internal = s;
  return 0;
}

void tensor_releasebuffer(PyObject*, Py_buffer* view) { delete static_cast<BufferShape*>(view->internal); }

PyType_Slot tensor_slots[] = {{Py_bf_getbuffer, reinterpret_cast<void*>(tensor_getbuffer)},
                              {Py_bf_releasebuffer, reinterpret_cast<void*>(tensor_releasebuffer)},
                              {0, nullptr}};

}  // namespace

const char* numpy_dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F64: return "float64";
    case DType::I64: return "int64";
    case DType::BF16: return "bfloat16";
  }
  return "?";
}

Tensor to_tensor(nb::handle array, const std::string& where) {
  if (nb::isinstance<Tensor>(array)) return nb::cast<Tensor>(array);
  using Array = nb::ndarray<nb::ro>;
  Array a;
  if (!nb::try_cast(array, a)) {
    // Lists, scalars and objects with only __array__: through numpy.
    nb::object converted;
    try {
      converted = nb::module_::import_("numpy").attr("asarray")(array);
    } catch (const nb::python_error&) {
      fail(where.c_str(), "expected an array, got {}", nb::str(nb::handle(array.type())).c_str());
    }
    if (!nb::try_cast(converted, a))
      fail(where.c_str(), "expected an array, got {}", nb::str(nb::handle(array.type())).c_str());
    return to_tensor(converted, where);
  }
  if (a.device_type() != nb::device::cpu::value)
    fail(where.c_str(), "the array is not in CPU memory (device type {}); sdnc runs on the CPU", a.device_type());
  DType dtype;
  if (a.dtype() == nb::dtype<float>()) dtype = DType::F32;
  else if (a.dtype() == nb::dtype<double>()) dtype = DType::F64;
  else if (a.dtype() == nb::dtype<int64_t>()) dtype = DType::I64;
  else fail(where.c_str(), "dtype {} is not supported (float32, float64, int64)", array_dtype_name(a.dtype()));
  Shape shape(a.ndim());
  std::vector<int64_t> strides(a.ndim());
  bool contiguous = true;
  int64_t expected = 1;
  for (size_t d = a.ndim(); d-- > 0;) {
    shape[d] = static_cast<int64_t>(a.shape(d));
    strides[d] = a.stride(d);
    if (shape[d] != 1 && strides[d] != expected) contiguous = false;
    expected *= shape[d];
  }
  bool writable = true;
  if (nb::hasattr(array, "flags")) writable = nb::cast<bool>(array.attr("flags").attr("writeable"));
  const int64_t n = shape_numel(shape);
  if (contiguous && writable && n > 0) {
    // Share the bytes: the storage holds the array until the last tensor using it is gone.
    auto* keep = new Array(a);
    auto storage = std::make_shared<Storage>(const_cast<void*>(a.data()), n * dtype_size(dtype), Device::CPU, [keep] {
      nb::gil_scoped_acquire gil;
      delete keep;
    });
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::move(storage);
    impl->shape = shape;
    impl->dtype = dtype;
    return Tensor(impl);
  }
  Tensor t = Tensor::empty(shape, dtype);
  if (n > 0) copy_strided(static_cast<const char*>(a.data()), shape, strides, dtype_size(dtype),
                          static_cast<char*>(t.raw_data()));
  return t;
}

nb::object to_numpy(const Tensor& t) {
  dl::dtype dtype = dlpack_dtype(t.dtype());
  auto* keep = new std::shared_ptr<Storage>(t.impl().storage);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<std::shared_ptr<Storage>*>(p); });
  std::vector<size_t> shape(t.shape().begin(), t.shape().end());
  nb::ndarray<nb::numpy> view(t.raw_data(), shape.size(), shape.data(), owner, nullptr, dtype);
  return nb::cast(view, nb::rv_policy::reference);
}

nb::dict to_numpy_dict(const std::map<std::string, Tensor>& tensors) {
  nb::dict out;
  for (const auto& [name, t] : tensors) out[name.c_str()] = to_numpy(t.clone());
  return out;
}

std::map<std::string, Tensor> to_tensor_map(nb::handle dict, const std::string& where) {
  if (!nb::isinstance<nb::dict>(dict)) fail(where.c_str(), "expected a dict of name → array");
  std::map<std::string, Tensor> out;
  for (auto [key, value] : nb::borrow<nb::dict>(dict)) {
    if (!nb::isinstance<nb::str>(key)) fail(where.c_str(), "keys must be tensor names (str)");
    std::string name = nb::cast<std::string>(key);
    out[name] = to_tensor(value, where + ": tensor '" + name + "'").clone();
  }
  return out;
}

nlohmann::json to_json(nb::handle object) {
  nb::object text = nb::module_::import_("json").attr("dumps")(object);
  return nlohmann::json::parse(nb::cast<std::string>(text));
}

nb::object from_json(const nlohmann::json& j) { return nb::module_::import_("json").attr("loads")(j.dump()); }

void bind_tensor(nb::module_& m) {
  nb::class_<Tensor>(m, "Tensor", nb::type_slots(tensor_slots),
                     "An sdnc tensor (float32, float64 or int64, row-major, CPU). Built from any array: the bytes "
                     "are shared when the array is C-contiguous and writable, copied otherwise. numpy.asarray(t) "
                     "(buffer protocol) and torch.from_dlpack(t) share its bytes.")
      .def("__init__", [](Tensor* self, nb::handle array) { new (self) Tensor(to_tensor(array, "Tensor")); },
           nb::arg("array"))
      .def_prop_ro("shape", [](const Tensor& t) {
        nb::list dims;
        for (int64_t d : t.shape()) dims.append(d);
        return nb::tuple(dims);
      }, "The shape, a tuple of ints.")
      .def_prop_ro("dtype", [](const Tensor& t) { return numpy_dtype_name(t.dtype()); },
                   "numpy's name of the dtype: 'float32', 'float64' or 'int64'.")
      .def_prop_ro("ndim", &Tensor::ndim)
      .def("numpy", &to_numpy, "A numpy array sharing this tensor's bytes.")
      .def("shares_memory", [](const Tensor& a, const Tensor& b) { return a.same_storage(b); }, nb::arg("other"),
           "Whether two tensors use the same storage.")
      .def("__dlpack__", [](const Tensor& t, nb::kwargs) { return to_numpy(t).attr("__dlpack__")(); },
           "DLPack capsule of the shared bytes (torch.from_dlpack(t)).")
      .def("__dlpack_device__", [](const Tensor&) { return nb::make_tuple(1, 0); }, "(kDLCPU, 0)")
      .def("__len__", [](const Tensor& t) {
        if (t.ndim() == 0) throw nb::type_error("len() of a 0-d tensor");
        return t.size(0);
      })
      .def("__repr__", [](const Tensor& t) {
        return fmt::format("sdnc.Tensor(shape={}, dtype={})", shape_str(t.shape()), numpy_dtype_name(t.dtype()));
      });
}

}  // namespace sdnc::python
