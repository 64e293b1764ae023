// Every argument check of ops/lstm_cell throws an sdnc::Error starting with "[lstm_cell]".
#include <gtest/gtest.h>

#include "common/expect_error.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {


const char* kOp = "[lstm_cell]";
// Valid shapes: B = 2, X = 3, Hd = 4.
Tensor X() { return Tensor::ones({2, 3}); }
Tensor H() { return Tensor::ones({2, 4}); }
Tensor C() { return Tensor::ones({2, 4}); }
Tensor WIH() { return Tensor::ones({16, 3}); }
Tensor WHH() { return Tensor::ones({16, 4}); }
Tensor BIAS() { return Tensor::ones({16}); }

TEST(LstmCellErrors, ValidShapesPass) { EXPECT_NO_THROW(lstm_cell(X(), H(), C(), WIH(), WHH(), BIAS(), 1.0)); }
TEST(LstmCellErrors, UndefinedInputs) {
  EXPECT_OP_ERROR(lstm_cell(Tensor(), H(), C(), WIH(), WHH()), kOp, "x is an undefined tensor");
  EXPECT_OP_ERROR(lstm_cell(X(), Tensor(), C(), WIH(), WHH()), kOp, "h is an undefined tensor");
  EXPECT_OP_ERROR(lstm_cell(X(), H(), Tensor(), WIH(), WHH()), kOp, "c is an undefined tensor");
  EXPECT_OP_ERROR(lstm_cell(X(), H(), C(), Tensor(), WHH()), kOp, "w_ih is an undefined tensor");
  EXPECT_OP_ERROR(lstm_cell(X(), H(), C(), WIH(), Tensor()), kOp, "w_hh is an undefined tensor");
}
TEST(LstmCellErrors, IntegerInput) {
  EXPECT_OP_ERROR(lstm_cell(Tensor::from_indices({1, 2, 3, 4, 5, 6}, {2, 3}), H(), C(), WIH(), WHH()), kOp,
                  "x must be F32 or F64");
}
TEST(LstmCellErrors, EmptyInput) {
  EXPECT_OP_ERROR(lstm_cell(Tensor::zeros({0, 3}), Tensor::zeros({0, 4}), Tensor::zeros({0, 4}), WIH(), WHH()), kOp,
                  "x is empty");
}
TEST(LstmCellErrors, DtypeMismatch) {
  EXPECT_OP_ERROR(lstm_cell(X(), H(), C(), WIH(), Tensor::ones({16, 4}, DType::F64)), kOp, "dtypes differ");
  EXPECT_OP_ERROR(lstm_cell(X(), H(), C(), WIH(), WHH(), Tensor::ones({16}, DType::F64)), kOp, "dtypes differ");
}
TEST(LstmCellErrors, WrongNdim) {
  EXPECT_OP_ERROR(lstm_cell(Tensor::ones({2, 1, 3}), H(), C(), WIH(), WHH()), kOp, "x must have 2 dims");
  EXPECT_OP_ERROR(lstm_cell(X(), Tensor::ones({8}), C(), WIH(), WHH()), kOp, "h must have 2 dims");
}
TEST(LstmCellErrors, BatchMismatch) {
  EXPECT_OP_ERROR(lstm_cell(X(), Tensor::ones({3, 4}), Tensor::ones({3, 4}), WIH(), WHH()), kOp, "batch");
}
TEST(LstmCellErrors, CellShape) {
  EXPECT_OP_ERROR(lstm_cell(X(), H(), Tensor::ones({2, 5}), WIH(), WHH()), kOp, "c shape [2, 5] != h shape [2, 4]");
}
TEST(LstmCellErrors, WeightShapes) {
  EXPECT_OP_ERROR(lstm_cell(X(), H(), C(), Tensor::ones({12, 3}), WHH()), kOp, "w_ih shape [12, 3] != [4Hd, X] = [16, 3]");
  EXPECT_OP_ERROR(lstm_cell(X(), H(), C(), WIH(), Tensor::ones({16, 3})), kOp, "w_hh shape [16, 3] != [4Hd, Hd] = [16, 4]");
}
TEST(LstmCellErrors, BiasShape) {
  EXPECT_OP_ERROR(lstm_cell(X(), H(), C(), WIH(), WHH(), Tensor::ones({4})), kOp, "bias shape [4] != [4Hd] = [16]");
}

}  // namespace
}  // namespace sdnc
