// Every argument check of ops/softmax throws an sdnc::Error starting with the op's name.
#include <gtest/gtest.h>

#include "common/expect_error.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {


TEST(SoftmaxErrors, UndefinedX) {
  EXPECT_OP_ERROR(softmax(Tensor()), "[softmax]", "undefined");
  EXPECT_OP_ERROR(log_softmax(Tensor()), "[log_softmax]", "undefined");
}
TEST(SoftmaxErrors, IntegerX) {
  EXPECT_OP_ERROR(softmax(Tensor::from_indices({1, 2}, {2})), "[softmax]", "F32 or F64");
  EXPECT_OP_ERROR(log_softmax(Tensor::from_indices({1, 2}, {2})), "[log_softmax]", "F32 or F64");
}
TEST(SoftmaxErrors, EmptyX) {
  EXPECT_OP_ERROR(softmax(Tensor::zeros({3, 0})), "[softmax]", "empty");
  EXPECT_OP_ERROR(log_softmax(Tensor::zeros({0, 3})), "[log_softmax]", "empty");
}
TEST(SoftmaxErrors, ZeroDimX) {
  EXPECT_OP_ERROR(softmax(Tensor::scalar(1.0)), "[softmax]", "0-dim");
  EXPECT_OP_ERROR(log_softmax(Tensor::scalar(1.0)), "[log_softmax]", "0-dim");
}
TEST(SoftmaxErrors, AxisOutOfRange) {
  EXPECT_OP_ERROR(softmax(Tensor::ones({2, 3}), 2), "[softmax]", "axis 2 out of range");
  EXPECT_OP_ERROR(log_softmax(Tensor::ones({2, 3}), -3), "[log_softmax]", "axis -3 out of range");
}

}  // namespace
}  // namespace sdnc
