// finite_differences.h — central differences of a scalar loss against autograd, F64.
#pragma once
#include <algorithm>
#include <cmath>
#include <functional>

#include "sdnc/core/tensor.h"

namespace sdnc::test {

// The worst |(value(x + h) − value(x − h)) / 2h − analytic| / (1 + |central difference|) over
// every entry of x (F64; each entry is moved and put back in place), analytic: autograd's
// gradient of value with respect to x.
inline double worst_central_difference_error(Tensor& x, const Tensor& analytic, const std::function<double()>& value,
                                             double h = 1e-6) {
  auto an = analytic.to_doubles();
  double* p = x.data<double>();
  double worst = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double x0 = p[i];
    p[i] = x0 + h;
    const double fp = value();
    p[i] = x0 - h;
    const double fm = value();
    p[i] = x0;
    const double num = (fp - fm) / (2 * h);
    worst = std::max(worst, std::fabs(num - an[i]) / (1 + std::fabs(num)));
  }
  return worst;
}

}  // namespace sdnc::test
