// checks.h — argument checks shared by the ops. Each throws "[op] <what>" naming the argument.
#pragma once
#include "sdnc/core/tensor.h"

namespace sdnc {

inline void check_defined(const char* op, const Tensor& t, const char* arg) {
  if (!t.defined()) fail(op, "{} is an undefined tensor", arg);
}

// Defined, on a supported device, floating, and not empty.
inline void check_float_input(const char* op, const Tensor& t, const char* arg) {
  check_defined(op, t, arg);
  check_cpu(op, t);
  if (!is_floating(t.dtype())) fail(op, "{} must be F32 or F64, got {}", arg, dtype_name(t.dtype()));
  if (t.numel() == 0) fail(op, "{} is empty (shape {})", arg, shape_str(t.shape()));
}

inline void check_index_input(const char* op, const Tensor& t, const char* arg) {
  check_defined(op, t, arg);
  check_cpu(op, t);
  if (t.dtype() != DType::I64) fail(op, "{} must be I64 indices, got {}", arg, dtype_name(t.dtype()));
}

inline void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    fail(op, "dtypes differ: {} vs {}", dtype_name(a.dtype()), dtype_name(b.dtype()));
}

inline void check_ndim(const char* op, const Tensor& t, int64_t ndim, const char* arg) {
  if (t.ndim() != ndim)
    fail(op, "{} must have {} dims, got shape {}", arg, ndim, shape_str(t.shape()));
}

}  // namespace sdnc
