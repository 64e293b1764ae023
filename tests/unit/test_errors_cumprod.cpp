// Every argument check of ops/cumprod throws an sdnc::Error starting with the op's name.
#include <gtest/gtest.h>

#include "common/expect_error.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {


TEST(CumprodErrors, UndefinedX) {
  EXPECT_OP_ERROR(cumprod(Tensor(), 0), "[cumprod]", "x is an undefined tensor");
  EXPECT_OP_ERROR(prod(Tensor(), 0), "[prod]", "x is an undefined tensor");
}
TEST(CumprodErrors, IntegerX) {
  EXPECT_OP_ERROR(cumprod(Tensor::from_indices({1, 2}, {2}), 0), "[cumprod]", "F32 or F64");
  EXPECT_OP_ERROR(prod(Tensor::from_indices({1, 2}, {2}), 0), "[prod]", "F32 or F64");
}
TEST(CumprodErrors, EmptyX) {
  EXPECT_OP_ERROR(cumprod(Tensor::zeros({0, 2}), 1, true), "[cumprod]", "empty");
  EXPECT_OP_ERROR(prod(Tensor::zeros({2, 0}), 0), "[prod]", "empty");
}
TEST(CumprodErrors, ZeroDimX) {
  EXPECT_OP_ERROR(cumprod(Tensor::scalar(2.0), 0), "[cumprod]", "0-dim");
  EXPECT_OP_ERROR(prod(Tensor::scalar(2.0), 0), "[prod]", "0-dim");
}
TEST(CumprodErrors, AxisOutOfRange) {
  EXPECT_OP_ERROR(cumprod(Tensor::ones({2, 3}), 2), "[cumprod]", "axis 2 out of range");
  EXPECT_OP_ERROR(cumprod(Tensor::ones({2, 3}), -3, true), "[cumprod]", "axis -3 out of range");
  EXPECT_OP_ERROR(prod(Tensor::ones({2, 3}), 5, true), "[prod]", "axis 5 out of range");
}

}  // namespace
}  // namespace sdnc
