#include "sdnc/core/tensor.h"

#include <algorithm>
#include <cstring>

#include "sdnc/autograd/engine.h"

namespace sdnc {

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t d : shape)
    if (d < 0) fail("tensor", "negative dimension in shape {}", shape_str(shape));
  if (shape.size() > kMaxDims) fail("tensor", "{} dims exceed the limit of {}", shape.size(), kMaxDims);
  // The byte count must fit in int64 (so numel() does too) without overflowing on the way.
  uint64_t bytes = dtype_size(dtype);
  for (int64_t d : shape)
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes) || bytes > uint64_t{INT64_MAX})
      fail("tensor", "shape {} is too large", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(static_cast<size_t>(bytes), device);
  impl->shape = shape;
  impl->dtype = dtype;
  impl->device = device;
  return Tensor(std::move(impl));
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  std::memset(t.raw_data(), 0, t.nbytes());
  return t;
}

Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill(1.0);
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill(value);
  return t;
}

void Tensor::fill(double value) {
  int64_t n = numel();
  switch (dtype()) {
    case DType::F32: std::fill_n(data<float>(), n, static_cast<float>(value)); break;
    case DType::F64: std::fill_n(data<double>(), n, value); break;
    case DType::I64: std::fill_n(data<int64_t>(), n, static_cast<int64_t>(value)); break;
    default: fail("fill", "unsupported dtype {}", dtype_name(dtype()));
  }
}

Tensor Tensor::from_vector(const std::vector<double>& values, const Shape& shape, DType dtype) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    fail("from_vector", "{} values for shape {}", values.size(), shape_str(shape));
  Tensor t = empty(shape, dtype);
  int64_t n = t.numel();
  switch (dtype) {
    case DType::F32: for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = static_cast<float>(values[i]); break;
    case DType::F64: std::copy(values.begin(), values.end(), t.data<double>()); break;
    case DType::I64: for (int64_t i = 0; i < n; ++i) t.data<int64_t>()[i] = static_cast<int64_t>(values[i]); break;
    default: fail("from_vector", "unsupported dtype {}", dtype_name(dtype));
  }
  return t;
}

Tensor Tensor::from_vector(const std::vector<float>& values, const Shape& shape) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    fail("from_vector", "{} values for shape {}", values.size(), shape_str(shape));
  Tensor t = empty(shape, DType::F32);
  std::copy(values.begin(), values.end(), t.data<float>());
  return t;
}

Tensor Tensor::from_indices(const std::vector<int64_t>& values, const Shape& shape) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    fail("from_indices", "{} values for shape {}", values.size(), shape_str(shape));
  Tensor t = empty(shape, DType::I64);
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return t;
}

int64_t Tensor::size(int64_t axis) const {
  return shape()[normalize_axis("size", axis, ndim())];
}

double Tensor::item() const {
  if (numel() != 1) fail("item", "tensor of shape {} has {} elements, not 1", shape_str(shape()), numel());
  return to_doubles()[0];
}

std::vector<double> Tensor::to_doubles() const {
  check_cpu("to_doubles", *this);
  int64_t n = numel();
  std::vector<double> out(n);
  switch (dtype()) {
    case DType::F32: std::copy_n(data<float>(), n, out.begin()); break;
    case DType::F64: std::copy_n(data<double>(), n, out.begin()); break;
    case DType::I64: std::copy_n(data<int64_t>(), n, out.begin()); break;
    default: fail("to_doubles", "unsupported dtype {}", dtype_name(dtype()));
  }
  return out;
}

std::vector<int64_t> Tensor::to_indices() const {
  const int64_t* p = data<int64_t>();
  return std::vector<int64_t>(p, p + numel());
}

Tensor Tensor::clone() const {
  Tensor t = empty(shape(), dtype(), device());
  std::memcpy(t.raw_data(), raw_data(), nbytes());
  return t;
}

Tensor Tensor::to(DType target) const {
  if (target == dtype()) return clone();
  return from_vector(to_doubles(), shape(), target);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->offset = impl_->offset;
  impl->shape = impl_->shape;
  impl->dtype = impl_->dtype;
  impl->device = impl_->device;
  return Tensor(std::move(impl));
}

Tensor Tensor::view(const Shape& new_shape) const {
  if (shape_numel(new_shape) != numel())
    fail("view", "cannot view {} elements of shape {} as {}", numel(), shape_str(shape()),
         shape_str(new_shape));
  Tensor t = detach();
  t.impl().shape = new_shape;
  return t;
}

Tensor Tensor::view_prefix(const Shape& new_shape) const {
  if (shape_numel(new_shape) > numel())
    fail("view", "cannot view {} elements of a tensor of {}", shape_numel(new_shape), numel());
  Tensor t = detach();
  t.impl().shape = new_shape;
  return t;
}

void Tensor::copy_from(const Tensor& src) {
  if (src.shape() != shape() || src.dtype() != dtype())
    fail("copy_from", "source {} {} does not match destination {} {}", dtype_name(src.dtype()),
         shape_str(src.shape()), dtype_name(dtype()), shape_str(shape()));
  std::memmove(raw_data(), src.raw_data(), nbytes());
}

Tensor& Tensor::requires_grad_(bool on) {
  if (on && !is_floating(dtype()))
    fail("requires_grad", "only floating tensors can require gradients, got {}", dtype_name(dtype()));
  if (!is_leaf()) fail("requires_grad", "can only be set on leaf tensors");
  impl().requires_grad = on;
  return *this;
}

void Tensor::backward() const { run_backward(*this); }

}  // namespace sdnc
