// tiny_op.h — the op both bindings wrap: the sum of a float32 vector (and a scalar add), so a
// call costs almost nothing but the binding's own work.
#pragma once
#include <cstddef>

inline float tiny_sum(const float* x, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; ++i) s += x[i];
  return s;
}
inline double tiny_add(double a, double b) { return a + b; }
