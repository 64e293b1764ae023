// random_tensors.h — seeded random inputs for the DNC property tests (F64 by default).
#pragma once
#include "sdnc/autograd/grad_mode.h"
#include "sdnc/core/rng.h"
#include "sdnc/ops/ops.h"

namespace sdnc::test {

inline Tensor uniform(Shape s, Generator& g, double lo = 0, double hi = 1, DType dt = DType::F64) {
  Tensor t = Tensor::empty(s, dt);
  g.fill_uniform(t, lo, hi);
  return t;
}

inline Tensor randn(Shape s, Generator& g, DType dt = DType::F64) {
  Tensor t = Tensor::empty(s, dt);
  g.fill_normal(t, 0, 1);
  return t;
}

// Random weightings [.., N], each row summing to at most 1 (a softmax times a factor in
// [0.2, 1)), recorded without autograd.
inline Tensor random_weighting(Shape s, Generator& g) {
  NoGradGuard ng;
  Tensor w = softmax(mul_scalar(randn(s, g), 3.0), -1);
  Shape fs = s;
  fs.back() = 1;
  return mul(w, uniform(fs, g, 0.2, 1.0));
}

}  // namespace sdnc::test
