// Every check of ops/shape throws sdnc::Error whose message starts with "[op]".
#include <gtest/gtest.h>

#include <functional>
#include <limits>

#include "common/expect_error.h"
#include "sdnc/sdnc.h"

namespace sdnc {
namespace {


Tensor ones(const Shape& s) { return Tensor::ones(s, DType::F64); }
Tensor ids(std::vector<int64_t> v, const Shape& s) { return Tensor::from_indices(v, s); }

// ---- checks shared by every op: undefined, unsupported dtype, empty -------------------------

struct ShapeCase {
  const char* name;
  std::function<void(const Tensor&)> fn;  // runs the op with x as its data input
};

std::vector<ShapeCase> all_shape_ops() {
  return {
      {"reshape", [](const Tensor& x) { reshape(x, {-1}); }},
      {"transpose", [](const Tensor& x) { transpose(x, 0, 1); }},
      {"permute", [](const Tensor& x) { permute(x, {1, 0}); }},
      {"slice", [](const Tensor& x) { slice(x, 0, 0, 1); }},
      {"concat", [](const Tensor& x) { concat({x}, 0); }},
      {"split", [](const Tensor& x) { split(x, {1}, 0); }},
      {"index_select", [](const Tensor& x) { index_select(x, 0, ids({0}, {1})); }},
      {"gather", [](const Tensor& x) { gather(x, 0, ids({0}, {1, 1})); }},
      {"embedding", [](const Tensor& x) { embedding(x, ids({0}, {1})); }},
  };
}

TEST(ShapeErrors, UndefinedInput) {
  for (auto& c : all_shape_ops()) expect_error([&] { c.fn(Tensor()); }, c.name, "undefined");
}

TEST(ShapeErrors, UnsupportedDtype) {
  Tensor t = Tensor::empty({1, 1}, DType::BF16);
  for (auto& c : all_shape_ops()) expect_error([&] { c.fn(t); }, c.name, "BF16");
}

TEST(ShapeErrors, EmptyInput) {
  Tensor t = Tensor::empty({0, 2}, DType::F64);
  for (auto& c : all_shape_ops()) expect_error([&] { c.fn(t); }, c.name, "empty");
}

// ---- reshape --------------------------------------------------------------------------------

TEST(ShapeErrors, ReshapeTwoInferredDims) { expect_error([] { reshape(ones({2, 3}), {-1, -1}); }, "reshape", "one -1"); }
TEST(ShapeErrors, ReshapeNegativeSize) { expect_error([] { reshape(ones({2, 3}), {-2, 3}); }, "reshape", "invalid size -2"); }
TEST(ShapeErrors, ReshapeCountMismatch) {
  expect_error([] { reshape(ones({2, 3}), {4, 2}); }, "reshape", "cannot reshape 6 elements");
}
TEST(ShapeErrors, ReshapeCannotInfer) {
  expect_error([] { reshape(ones({2, 3}), {4, -1}); }, "reshape", "cannot infer");
  expect_error([] { reshape(ones({2, 3}), {0, -1}); }, "reshape", "cannot infer");
}
TEST(ShapeErrors, ReshapeTooManyDims) {
  expect_error([] { reshape(ones({2}), {1, 1, 1, 1, 1, 1, 1, 1, 2}); }, "reshape", "more than 8 dims");
}
TEST(ShapeErrors, ReshapeOverflowingShape) {
  int64_t big = int64_t{1} << 40;
  expect_error([&] { reshape(ones({2}), {big, big, 2}); }, "reshape", "too many elements");
}

// ---- transpose / permute --------------------------------------------------------------------

TEST(ShapeErrors, TransposeBadAxis) {
  expect_error([] { transpose(ones({2, 3}), 0, 2); }, "transpose", "axis 2");
  expect_error([] { transpose(ones({2, 3}), -3, 0); }, "transpose", "axis -3");
}
TEST(ShapeErrors, PermuteWrongCount) { expect_error([] { permute(ones({2, 3}), {0}); }, "permute", "1 entries"); }
TEST(ShapeErrors, PermuteRepeatedAxis) {
  expect_error([] { permute(ones({2, 3, 4}), {0, -3, 1}); }, "permute", "repeat axis 0");
}
TEST(ShapeErrors, PermuteBadAxis) { expect_error([] { permute(ones({2, 3}), {0, 5}); }, "permute", "axis 5"); }

// ---- slice ----------------------------------------------------------------------------------

TEST(ShapeErrors, SliceBadAxis) { expect_error([] { slice(ones({2, 3}), 2, 0, 1); }, "slice", "axis 2"); }
TEST(ShapeErrors, SliceEmptyRange) {
  expect_error([] { slice(ones({2, 5}), 1, 3, 3); }, "slice", "select nothing");
  expect_error([] { slice(ones({2, 5}), 1, 4, 2); }, "slice", "select nothing");
  expect_error([] { slice(ones({2, 5}), 1, 7, 9); }, "slice", "select nothing");  // clamped to [5, 5)
  expect_error([] { slice(ones({2, 5}), 1, -1, -1); }, "slice", "select nothing");
}

// ---- concat ---------------------------------------------------------------------------------

TEST(ShapeErrors, ConcatNoTensors) { expect_error([] { concat({}, 0); }, "concat", "at least one"); }
TEST(ShapeErrors, ConcatUndefinedMember) {
  expect_error([] { concat({ones({2}), Tensor()}, 0); }, "concat", "tensors[1] is an undefined");
}
TEST(ShapeErrors, ConcatDtypeMismatch) {
  expect_error([] { concat({ones({2}), Tensor::ones({2}, DType::F32)}, 0); }, "concat", "tensors[1] is F32");
}
TEST(ShapeErrors, ConcatNdimMismatch) {
  expect_error([] { concat({ones({2, 3}), ones({2, 3, 1})}, 0); }, "concat", "may differ only in axis 0");
}
TEST(ShapeErrors, ConcatShapeMismatch) {
  expect_error([] { concat({ones({2, 3}), ones({2, 4})}, 0); }, "concat", "tensors[1] has shape [2, 4]");
}
TEST(ShapeErrors, ConcatBadAxis) { expect_error([] { concat({ones({2, 3}), ones({2, 3})}, -3); }, "concat", "axis -3"); }

// ---- split ----------------------------------------------------------------------------------

TEST(ShapeErrors, SplitNoSizes) { expect_error([] { split(ones({4}), {}, 0); }, "split", "sizes is empty"); }
TEST(ShapeErrors, SplitNonPositiveSize) {
  expect_error([] { split(ones({4}), {4, 0}, 0); }, "split", "sizes[1] is 0");
  expect_error([] { split(ones({4}), {-1, 5}, 0); }, "split", "sizes[0] is -1");
}
TEST(ShapeErrors, SplitSizesDoNotAddUp) {
  expect_error([] { split(ones({2, 5}), {2, 2}, 1); }, "split", "do not add up to the size 5");
  expect_error([] { split(ones({2, 5}), {3, 3}, 1); }, "split", "do not add up");
  int64_t huge = std::numeric_limits<int64_t>::max();
  expect_error([&] { split(ones({2, 5}), {huge, huge, 1}, 1); }, "split", "do not add up");
}
TEST(ShapeErrors, SplitBadAxis) { expect_error([] { split(ones({2, 5}), {1, 1}, 2); }, "split", "axis 2"); }

// ---- index_select ---------------------------------------------------------------------------

TEST(ShapeErrors, IndexSelectNonIntegerIndex) {
  expect_error([] { index_select(ones({3, 2}), 0, ones({2})); }, "index_select", "idx must be I64");
}
TEST(ShapeErrors, IndexSelectUndefinedIndex) {
  expect_error([] { index_select(ones({3, 2}), 0, Tensor()); }, "index_select", "idx is an undefined");
}
TEST(ShapeErrors, IndexSelectIndexNot1d) {
  expect_error([] { index_select(ones({3, 2}), 0, ids({0, 1}, {1, 2})); }, "index_select", "idx must have 1 dims");
}
TEST(ShapeErrors, IndexSelectEmptyIndex) {
  expect_error([] { index_select(ones({3, 2}), 0, ids({}, {0})); }, "index_select", "idx is empty");
}
TEST(ShapeErrors, IndexSelectOutOfRange) {
  expect_error([] { index_select(ones({3, 2}), 0, ids({0, 2, 3}, {3})); }, "index_select",
               "index 3 out of range [0, 3) at position 2");
  expect_error([] { index_select(ones({3, 2}), -1, ids({-1}, {1})); }, "index_select",
               "index -1 out of range [0, 2) at position 0");
}
TEST(ShapeErrors, IndexSelectBadAxis) {
  expect_error([] { index_select(ones({3, 2}), 2, ids({0}, {1})); }, "index_select", "axis 2");
}

// ---- gather ---------------------------------------------------------------------------------

TEST(ShapeErrors, GatherNonIntegerIndex) { expect_error([] { gather(ones({3, 2}), 0, ones({1, 2})); }, "gather", "I64"); }
TEST(ShapeErrors, GatherEmptyIndex) { expect_error([] { gather(ones({3, 2}), 0, ids({}, {0, 2})); }, "gather", "idx is empty"); }
TEST(ShapeErrors, GatherNdimMismatch) {
  expect_error([] { gather(ones({3, 2}), 0, ids({0, 1}, {2})); }, "gather", "idx must have the 2 dims");
}
TEST(ShapeErrors, GatherIndexLargerThanInput) {
  expect_error([] { gather(ones({3, 2}), 0, ids({0, 0, 0}, {1, 3})); }, "gather", "exceeds x shape [3, 2] in axis 1");
}
TEST(ShapeErrors, GatherOutOfRange) {
  expect_error([] { gather(ones({3, 2}), 1, ids({0, 1, 1, 2}, {2, 2})); }, "gather",
               "index 2 out of range [0, 2) at position 3");
  expect_error([] { gather(ones({3, 2}), 0, ids({-4}, {1, 1})); }, "gather", "index -4 out of range [0, 3) at position 0");
}
TEST(ShapeErrors, GatherBadAxis) { expect_error([] { gather(ones({3, 2}), -3, ids({0}, {1, 1})); }, "gather", "axis -3"); }

// ---- embedding ------------------------------------------------------------------------------

TEST(ShapeErrors, EmbeddingWeightNot2d) {
  expect_error([] { embedding(ones({4}), ids({0}, {1})); }, "embedding", "weight must have 2 dims");
}
TEST(ShapeErrors, EmbeddingIntegerWeight) {
  expect_error([] { embedding(ids({0, 1}, {2, 1}), ids({0}, {1})); }, "embedding", "weight must be F32 or F64");
}
TEST(ShapeErrors, EmbeddingNonIntegerIndex) {
  expect_error([] { embedding(ones({4, 2}), ones({2})); }, "embedding", "idx must be I64");
}
TEST(ShapeErrors, EmbeddingEmptyIndex) { expect_error([] { embedding(ones({4, 2}), ids({}, {2, 0})); }, "embedding", "idx is empty"); }
TEST(ShapeErrors, EmbeddingIndexTooManyDims) {
  expect_error([] { embedding(ones({4, 2}), ids({0}, {1, 1, 1, 1, 1, 1, 1, 1})); }, "embedding", "no room");
}
TEST(ShapeErrors, EmbeddingOutOfRangeNamesValueAndPosition) {
  std::vector<int64_t> v = {1, 2, 3, 4, 5, 300, 7, 999};
  try {
    embedding(Tensor::zeros({256, 4}), ids(v, {2, 4}));
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "[embedding] index 300 out of range [0, 256) at position 5");
  }
  expect_error([] { embedding(ones({4, 2}), ids({0, -1}, {2})); }, "embedding", "index -1 out of range [0, 4) at position 1");
}

}  // namespace
}  // namespace sdnc
