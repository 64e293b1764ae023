// optimizer_replay.h — replaying an oracle's optimizer run (tests/golden/adamw_ref.py,
// rmsprop_ref.py): the file holds p{i}.init, p{i}.grad{k} (absent: no gradient at step k) and
// p{i}.after{k}; the test feeds the same gradients to an sdnc optimizer and compares after
// every step, each element within atol + rtol·|oracle|.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "sdnc/io/safetensors.h"
#include "sdnc/train/optimizer.h"

namespace sdnc::test {

inline void expect_close_elementwise(const Tensor& got, const Tensor& want, double atol, double rtol,
                                     const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  auto g = got.to_doubles(), w = want.to_doubles();
  int bad = 0;
  for (size_t i = 0; i < g.size() && bad < 5; ++i)
    if (!(std::abs(g[i] - w[i]) <= atol + rtol * std::abs(w[i]))) {
      ADD_FAILURE() << what << "[" << i << "]: sdnc " << g[i] << " vs oracle " << w[i];
      ++bad;
    }
}

// The oracle's initial parameters, as leaves that require grad.
inline std::vector<Tensor> oracle_params(const SafetensorsFile& f) {
  std::vector<Tensor> params;
  for (int i = 0; i < std::stoi(f.metadata.at("params")); ++i)
    params.push_back(f.tensors.at("p" + std::to_string(i) + ".init").clone().requires_grad_());
  return params;
}

// Runs every step of the oracle file through opt (built on `params`) and compares.
inline void replay_oracle_steps(const SafetensorsFile& f, std::vector<Tensor>& params, train::Optimizer& opt,
                                double atol, double rtol) {
  const int steps = std::stoi(f.metadata.at("steps"));
  for (int k = 0; k < steps; ++k) {
    for (size_t i = 0; i < params.size(); ++i) {
      auto it = f.tensors.find("p" + std::to_string(i) + ".grad" + std::to_string(k));
      if (it == f.tensors.end()) params[i].zero_grad();
      else params[i].set_grad(it->second.clone());
    }
    opt.step();
    for (size_t i = 0; i < params.size(); ++i)
      expect_close_elementwise(params[i], f.tensors.at("p" + std::to_string(i) + ".after" + std::to_string(k)), atol,
                               rtol, "p" + std::to_string(i) + " after step " + std::to_string(k));
  }
}

}  // namespace sdnc::test
