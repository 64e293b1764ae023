// Every argument check of ops/softmax throws an sdnc::Error starting with the op's name.
#include <gtest/gtest.h>

#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

// Expects stmt to throw sdnc::Error whose message starts with prefix (and contains `part`).
#define EXPECT_OP_ERROR(stmt, prefix, part)                                                   \
  do {                                                                                        \
    try {                                                                                     \
      (void)(stmt);                                                                           \
      ADD_FAILURE() << "expected an error from: " #stmt;                                      \
    } catch (const ::sdnc::Error& e) {                                                        \
      std::string msg = e.what();                                                             \
      EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;                                             \
      EXPECT_NE(msg.find(part), std::string::npos) << msg << " (expected to mention " << part << ")"; \
    }                                                                                         \
  } while (0)

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
