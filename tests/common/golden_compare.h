// golden_compare.h — comparing a model's tensors with PyTorch's: the error of an element is
// |got − ref| / max(1, |ref|) (NaN counts as infinite), and every comparison prints its max.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc::test {

inline double scaled_error(const Tensor& got, const Tensor& ref) {
  EXPECT_EQ(shape_str(got.shape()), shape_str(ref.shape()));
  if (got.shape() != ref.shape()) return INFINITY;
  auto g = got.to_doubles(), r = ref.to_doubles();
  double worst = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    double e = std::fabs(g[i] - r[i]) / std::max(1.0, std::fabs(r[i]));
    worst = std::max(worst, std::isnan(e) ? INFINITY : e);
  }
  return worst;
}

// Prints "[tag] what  max err E (tol T)" and expects E <= tol.
inline void expect_within(const char* tag, const std::string& what, const Tensor& got, const Tensor& ref, double tol) {
  double err = scaled_error(got, ref);
  std::printf("[%s] %-58s max err %.2e (tol %.0e)\n", tag, what.c_str(), err, tol);
  EXPECT_LE(err, tol) << what;
}

// The case folders (those holding config.json) under dir, sorted; {"missing_golden_dir"}
// when dir does not exist yet or holds no case, so the test fails with a message instead of
// running zero cases and passing.
inline std::vector<std::string> golden_case_names(const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> names;
  if (!fs::exists(dir)) return {"missing_golden_dir"};
  for (auto& e : fs::directory_iterator(dir))
    if (fs::exists(e.path() / "config.json")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  if (names.empty()) return {"missing_golden_dir"};
  return names;
}

}  // namespace sdnc::test
