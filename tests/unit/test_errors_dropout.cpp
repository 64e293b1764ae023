// Every argument check of ops/dropout throws an sdnc::Error starting with "[dropout]".
#include <gtest/gtest.h>

#include <cmath>

#include "common/expect_error.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {


const char* kOp = "[dropout]";

TEST(DropoutErrors, UndefinedX) {
  Generator gen(1);
  EXPECT_OP_ERROR(dropout(Tensor(), 0.5, true, gen), kOp, "x is an undefined tensor");
}
TEST(DropoutErrors, IntegerX) {
  Generator gen(1);
  EXPECT_OP_ERROR(dropout(Tensor::from_indices({1, 2}, {2}), 0.5, true, gen), kOp, "F32 or F64");
}
TEST(DropoutErrors, EmptyX) {
  Generator gen(1);
  EXPECT_OP_ERROR(dropout(Tensor::zeros({0, 2}), 0.5, true, gen), kOp, "empty");
}
TEST(DropoutErrors, ProbabilityOutOfRange) {
  Generator gen(1);
  // Checked in eval mode too, so a bad config fails before training starts.
  for (bool training : {true, false}) {
    EXPECT_OP_ERROR(dropout(Tensor::ones({4}), -0.1, training, gen), kOp, "p must be in [0, 1], got -0.1");
    EXPECT_OP_ERROR(dropout(Tensor::ones({4}), 1.5, training, gen), kOp, "p must be in [0, 1], got 1.5");
    EXPECT_OP_ERROR(dropout(Tensor::ones({4}), std::nan(""), training, gen), kOp, "p must be in [0, 1]");
  }
  EXPECT_EQ(gen.offset(), 0u) << "a refused call must not consume random numbers";
}

}  // namespace
}  // namespace sdnc
