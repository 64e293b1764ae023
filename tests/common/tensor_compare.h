// tensor_compare.h — the largest elementwise difference of two tensors, read as doubles.
#pragma once
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "sdnc/core/tensor.h"

namespace sdnc::test {

// max_i |a_i − b_i|; a failed expectation when the element counts differ (then over the
// common prefix).
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  auto x = a.to_doubles(), y = b.to_doubles();
  EXPECT_EQ(x.size(), y.size());
  double m = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

}  // namespace sdnc::test
