// Every argument check of ops/loss throws an sdnc::Error starting with the op's name.
#include <gtest/gtest.h>

#include "common/expect_error.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {


const char* kCE = "[cross_entropy]";
const char* kBCE = "[sigmoid_bce_with_logits]";

TEST(CrossEntropyErrors, UndefinedLogits) {
  EXPECT_OP_ERROR(cross_entropy(Tensor(), Tensor::from_indices({0}, {1})), kCE, "logits is an undefined tensor");
}
TEST(CrossEntropyErrors, IntegerLogits) {
  EXPECT_OP_ERROR(cross_entropy(Tensor::from_indices({0, 1}, {1, 2}), Tensor::from_indices({0}, {1})), kCE,
                  "logits must be F32 or F64");
}
TEST(CrossEntropyErrors, EmptyLogits) {
  EXPECT_OP_ERROR(cross_entropy(Tensor::zeros({0, 3}), Tensor::from_indices({}, {0})), kCE, "logits is empty");
}
TEST(CrossEntropyErrors, ZeroDimLogits) {
  EXPECT_OP_ERROR(cross_entropy(Tensor::scalar(1.0), Tensor::from_indices({0}, {})), kCE, "0-dim");
}
TEST(CrossEntropyErrors, UndefinedTargets) {
  EXPECT_OP_ERROR(cross_entropy(Tensor::ones({2, 3}), Tensor()), kCE, "targets is an undefined tensor");
}
TEST(CrossEntropyErrors, FloatingTargets) {
  EXPECT_OP_ERROR(cross_entropy(Tensor::ones({2, 3}), Tensor::zeros({2})), kCE, "targets must be I64");
}
TEST(CrossEntropyErrors, TargetsShape) {
  EXPECT_OP_ERROR(cross_entropy(Tensor::ones({2, 3}), Tensor::from_indices({0, 1, 2}, {3})), kCE,
                  "targets shape [3] != logits shape [2, 3]");
}
TEST(CrossEntropyErrors, TargetTooLargeNamesValueAndPosition) {
  EXPECT_OP_ERROR(cross_entropy(Tensor::ones({2, 2, 3}), Tensor::from_indices({0, 1, 2, 7}, {2, 2})), kCE,
                  "target 7 at position [1, 1] is outside [0, 3)");
}
TEST(CrossEntropyErrors, NegativeTargetThatIsNotIgnored) {
  EXPECT_OP_ERROR(cross_entropy(Tensor::ones({3, 4}), Tensor::from_indices({0, -1, -100}, {3})), kCE,
                  "target -1 at position [1]");
  // -100 is the default ignore_index, but not when another one is given.
  EXPECT_OP_ERROR(cross_entropy(Tensor::ones({3, 4}), Tensor::from_indices({0, 1, -100}, {3}), 5), kCE,
                  "target -100 at position [2]");
}

TEST(BceErrors, UndefinedInputs) {
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor(), Tensor::ones({2})), kBCE, "logits is an undefined tensor");
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2}), Tensor()), kBCE, "targets is an undefined tensor");
}
TEST(BceErrors, IntegerInputs) {
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::from_indices({0, 1}, {2}), Tensor::ones({2})), kBCE,
                  "logits must be F32 or F64");
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2}), Tensor::from_indices({0, 1}, {2})), kBCE,
                  "targets must be F32 or F64");
}
TEST(BceErrors, EmptyLogits) {
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::zeros({0}), Tensor::zeros({0})), kBCE, "logits is empty");
}
TEST(BceErrors, DtypeMismatch) {
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2}), Tensor::ones({2}, DType::F64)), kBCE, "dtypes differ");
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2}), Tensor::ones({2}), Tensor::ones({2}, DType::F64)), kBCE,
                  "dtypes differ");
}
TEST(BceErrors, TargetsShape) {
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2, 3}), Tensor::ones({3, 2})), kBCE,
                  "targets shape [3, 2] != logits shape [2, 3]");
}
TEST(BceErrors, MaskNotAPrefix) {
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2, 3, 4}), Tensor::ones({2, 3, 4}), Tensor::ones({3, 4})),
                  kBCE, "mask shape [3, 4] is neither");
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2, 3}), Tensor::ones({2, 3}), Tensor::ones({2, 3, 1})),
                  kBCE, "mask shape [2, 3, 1]");
}
TEST(BceErrors, IntegerOrEmptyMask) {
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2}), Tensor::ones({2}), Tensor::from_indices({1, 1}, {2})),
                  kBCE, "mask must be F32 or F64");
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2}), Tensor::ones({2}), Tensor::zeros({0})), kBCE,
                  "mask is empty");
}
TEST(BceErrors, UnknownReduction) {
  EXPECT_OP_ERROR(sigmoid_bce_with_logits(Tensor::ones({2}), Tensor::ones({2}), Tensor(), "none"), kBCE,
                  "reduction must be \"sum\" or \"mean\", got \"none\"");
}

}  // namespace
}  // namespace sdnc
