// test_golden.cpp — every case of the op table against PyTorch (tests/golden/gen_ops.py):
// outputs and input gradients, on sdnc's F64 path (tight) and F32 path (stated tolerances).
#include <gtest/gtest.h>

#include <filesystem>

#include "harness.h"

namespace sdnc::test {
namespace {

class Golden : public ::testing::TestWithParam<OpCase> {};

void expect_close(const std::string& what, const Tensor& got, const Tensor& ref, double atol, double rtol) {
  ASSERT_EQ(shape_str(got.shape()), shape_str(ref.shape())) << what;
  Closeness c = compare(got, ref, atol, rtol);
  std::printf("[golden] %-48s max abs %.2e  max rel %.2e  (atol %.0e rtol %.0e)\n", what.c_str(), c.max_abs,
              c.max_rel, atol, rtol);
  EXPECT_TRUE(c.ok) << what << ": worst element " << c.worst << " got "
                    << (c.worst >= 0 ? got.to_doubles()[c.worst] : 0.0) << " expected "
                    << (c.worst >= 0 ? ref.to_doubles()[c.worst] : 0.0);
}

TEST_P(Golden, MatchesPyTorch) {
  const OpCase& c = GetParam();
  if (!c.golden) GTEST_SKIP() << c.name << " has no PyTorch twin (see its case)";
  std::string path = golden_dir() + "/" + c.name + ".safetensors";
  ASSERT_TRUE(std::filesystem::exists(path))
      << path << " is missing: run tests/golden/gen_ops.py (ctest runs it as the golden_generate fixture)";
  SafetensorsFile file = load_safetensors(path);
  auto get = [&](const std::string& name) {
    auto it = file.tensors.find(name);
    if (it == file.tensors.end()) throw Error("[golden] " + path + " lacks " + name);
    return it->second;
  };

  for (DType dtype : {DType::F64, DType::F32}) {
    bool f32 = dtype == DType::F32;
    std::string tag = c.name + (f32 ? " f32" : " f64");
    std::vector<Tensor> inputs;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      Tensor t = get("input." + std::to_string(i));
      if (is_floating(t.dtype())) t = t.to(dtype);
      if (c.inputs[i].grad) t.requires_grad_(true);
      inputs.push_back(t);
    }
    std::vector<Tensor> outs = run_case(c, inputs);
    std::vector<Tensor> cotangents;
    for (size_t k = 0; k < outs.size(); ++k) {
      expect_close(tag + " out." + std::to_string(k), outs[k], get("output." + std::to_string(k)),
                   f32 ? c.fwd_atol_f32 : c.atol_f64, f32 ? c.fwd_rtol_f32 : c.rtol_f64);
      cotangents.push_back(get("grad_out." + std::to_string(k)).to(dtype));
    }
    bool any_grad = false;
    for (auto& s : c.inputs) any_grad |= s.grad;
    if (!any_grad) continue;
    run_backward(outs, cotangents);
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      if (!c.inputs[i].grad) continue;
      ASSERT_TRUE(inputs[i].grad().defined()) << tag << ": no gradient for input " << i;
      expect_close(tag + " grad." + std::to_string(i), inputs[i].grad(), get("grad_input." + std::to_string(i)),
                   f32 ? c.grad_atol_f32 : c.atol_f64, f32 ? c.grad_rtol_f32 : c.rtol_f64);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Ops, Golden, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sdnc::test
