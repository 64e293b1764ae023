// Every argument check of ops/layer_norm throws an sdnc::Error starting with "[layer_norm]".
#include <gtest/gtest.h>

#include <cmath>

#include "common/expect_error.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {


const char* kOp = "[layer_norm]";

TEST(LayerNormErrors, UndefinedX) { EXPECT_OP_ERROR(layer_norm(Tensor()), kOp, "x is an undefined tensor"); }
TEST(LayerNormErrors, IntegerX) { EXPECT_OP_ERROR(layer_norm(Tensor::from_indices({1, 2}, {2})), kOp, "F32 or F64"); }
TEST(LayerNormErrors, EmptyX) { EXPECT_OP_ERROR(layer_norm(Tensor::zeros({0, 4})), kOp, "empty"); }
TEST(LayerNormErrors, ZeroDimX) { EXPECT_OP_ERROR(layer_norm(Tensor::scalar(1.0)), kOp, "0-dim"); }
TEST(LayerNormErrors, WeightShape) {
  EXPECT_OP_ERROR(layer_norm(Tensor::ones({2, 4}), Tensor::ones({3})), kOp, "weight shape [3] != [4]");
}
TEST(LayerNormErrors, BiasShape) {
  EXPECT_OP_ERROR(layer_norm(Tensor::ones({2, 4}), Tensor::ones({4}), Tensor::ones({2, 4})), kOp, "bias shape");
}
TEST(LayerNormErrors, WeightDtype) {
  EXPECT_OP_ERROR(layer_norm(Tensor::ones({2, 4}), Tensor::ones({4}, DType::F64)), kOp, "dtypes differ");
}
TEST(LayerNormErrors, BiasDtype) {
  EXPECT_OP_ERROR(layer_norm(Tensor::ones({2, 4}), Tensor(), Tensor::from_indices({1, 2, 3, 4}, {4})), kOp,
                  "bias must be F32 or F64");
}
TEST(LayerNormErrors, EmptyWeight) {
  EXPECT_OP_ERROR(layer_norm(Tensor::ones({2, 4}), Tensor::zeros({0})), kOp, "weight is empty");
}
TEST(LayerNormErrors, NonPositiveEps) {
  EXPECT_OP_ERROR(layer_norm(Tensor::ones({2, 4}), Tensor(), Tensor(), 0.0), kOp, "eps");
  EXPECT_OP_ERROR(layer_norm(Tensor::ones({2, 4}), Tensor(), Tensor(), -1e-5), kOp, "eps");
  EXPECT_OP_ERROR(layer_norm(Tensor::ones({2, 4}), Tensor(), Tensor(), std::nan("")), kOp, "eps");
}

}  // namespace
}  // namespace sdnc
