// tensor.h — the engine's tensor: contiguous, row-major, shared storage, with a dtype and
// a device from day one. A Tensor is a cheap handle (shared_ptr); copies alias.
//
// Autograd fields live in the impl: requires_grad, the accumulated .grad of a leaf, and
// the node (grad_fn) that produced a non-leaf. See autograd/node.h.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "sdnc/core/device.h"
#include "sdnc/core/dtype.h"
#include "sdnc/core/error.h"
#include "sdnc/core/shape.h"
#include "sdnc/core/storage.h"

namespace sdnc {

class Node;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  int64_t offset = 0;  // in elements
  Shape shape;
  DType dtype = DType::F32;
  Device device = Device::CPU;

  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient (leaves)
  std::shared_ptr<Node> grad_fn;     // producer (non-leaves)
  int output_nr = 0;                 // which output of grad_fn this is
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- construction -------------------------------------------------------------------
  static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::F32);
  // Copies values (converted to dtype) into a new tensor of the given shape.
  static Tensor from_vector(const std::vector<double>& values, const Shape& shape,
                            DType dtype = DType::F32);
  static Tensor from_vector(const std::vector<float>& values, const Shape& shape);
  static Tensor from_indices(const std::vector<int64_t>& values, const Shape& shape);
  static Tensor scalar(double value, DType dtype = DType::F32) { return full({}, value, dtype); }

  // ---- metadata -----------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  int64_t ndim() const { return static_cast<int64_t>(impl().shape.size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return shape_numel(impl().shape); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().device; }
  size_t nbytes() const { return numel() * dtype_size(dtype()); }

  // ---- data access (CPU) --------------------------------------------------------------
  template <class T> T* data() const {
    if (dtype_of<T>::value != impl().dtype)
      fail("tensor", "data<{}>() on a {} tensor", dtype_name(dtype_of<T>::value),
           dtype_name(impl().dtype));
    return static_cast<T*>(impl().storage->data()) + impl().offset;
  }
  void* raw_data() const {
    return static_cast<char*>(impl().storage->data()) + impl().offset * dtype_size(impl().dtype);
  }
  // Value of a one-element tensor, as double.
  double item() const;
  // All values converted to double (for tests and printing).
  std::vector<double> to_doubles() const;
  std::vector<int64_t> to_indices() const;

  // ---- conversions --------------------------------------------------------------------
  Tensor clone() const;                 // deep copy, no autograd history
  Tensor to(DType dtype) const;         // converted deep copy, no autograd history
  Tensor detach() const;                // shares storage, no autograd history
  Tensor view(const Shape& shape) const;  // shares storage, no autograd history
  // The first shape_numel(shape) elements as a tensor of that shape (shares storage, no
  // autograd history): e.g. the written rows of a buffer that grows in place.
  Tensor view_prefix(const Shape& shape) const;
  void copy_from(const Tensor& src);    // same shape and dtype; values only
  void fill(double value);

  // ---- autograd -----------------------------------------------------------------------
  bool requires_grad() const { return impl().requires_grad; }
  Tensor& requires_grad_(bool on = true);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  Tensor grad() const { return Tensor(impl().grad); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
  void zero_grad() { impl_->grad.reset(); }
  const std::shared_ptr<Node>& grad_fn() const { return impl().grad_fn; }
  // Reverse-mode sweep from this one-element tensor (d self / d self = 1).
  void backward() const;

  TensorImpl& impl() const {
    if (!impl_) throw Error("[tensor] use of an undefined tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool same_storage(const Tensor& o) const { return impl().storage == o.impl().storage; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Calls f(T{}) with T = float or double for floating dtypes; throws "[op] ..." otherwise.
template <class F>
decltype(auto) dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::F32: return f(float{});
    case DType::F64: return f(double{});
    default: fail(op, "expects a floating tensor (F32 or F64), got {}", dtype_name(dtype));
  }
}

// Checks for ops that only have CPU kernels so far.
inline void check_cpu(const char* op, const Tensor& t) {
  if (t.device() != Device::CPU) fail(op, "no {} backend in this build", device_name(t.device()));
}

}  // namespace sdnc
