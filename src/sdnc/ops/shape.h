// shape.h — reshaping, reordering, cutting, joining and indexing tensors, with gradients.
//
// Axes may be negative (count from the end). Inputs must be non-empty. Except where noted
// (embedding) these ops accept F32, F64 and also I64 tensors (e.g. token ids [B, T]); only
// floating tensors carry gradients. Index tensors are I64, and every index is checked:
// a bad one throws "[op] index v out of range [0, n) at position p", p being its flat
// (row-major) position in the index tensor.
// Everything but reshape returns a fresh contiguous tensor.
#pragma once
#include <cstdint>
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc {

// x viewed with a new shape of the same element count; one entry may be -1 (inferred).
// Returns a VIEW that shares x's storage (no copy); dx = g viewed as x's shape.
// e.g. [B, T, D] → reshape({B * T, -1}) → [B·T, D].
Tensor reshape(const Tensor& x, const Shape& shape);

// Swaps axes d0 and d1 (copy). [B, T, D] with (1, 2) → [B, D, T]. dx = transpose of g.
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);

// Reorders axes (copy): out.shape[i] = x.shape[dims[i]]; dims is a permutation of the axes.
// [B, T, H, D] with {0, 2, 1, 3} → [B, H, T, D]. dx = g permuted back.
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);

// x[..., start:end, ...] along axis (copy), half-open. As in Python, a negative start or
// end counts from the end (-1 is the last element) and both are then clamped to
// [0, x.size(axis)]; so end = INT64_MAX means "to the end". The range must not be empty.
// dx = g placed in the range, 0 elsewhere.
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end);

// Joins tensors along axis (copy). All have the same dtype and ndim and equal sizes in
// every other axis: [B, T1, D] ++ [B, T2, D] → [B, T1 + T2, D]. Each input's gradient is
// its piece of g.
Tensor concat(const std::vector<Tensor>& tensors, int64_t axis);

// Cuts x along axis into pieces of the given sizes (each > 0, summing to x.size(axis)), as
// torch.split(x, sizes, dim). One node with several outputs: dx = concat of the output
// gradients (an output that got no gradient counts as zeros).
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t axis);

// Picks entries along axis by index, as torch.index_select: idx is I64 [P] with values in
// [0, x.size(axis)); out = x with axis size P, out[.., p, ..] = x[.., idx[p], ..].
// Indices may repeat: dx scatter-adds g (deterministically, in increasing p).
Tensor index_select(const Tensor& x, int64_t axis, const Tensor& idx);

// torch.gather: idx I64 has x's ndim, idx.size(d) <= x.size(d) for d != axis, values in
// [0, x.size(axis)); out has idx's shape and, for axis 1 of a 3-d x,
// out[i][j][k] = x[i][idx[i][j][k]][k]. dx scatter-adds g (deterministically).
Tensor gather(const Tensor& x, int64_t axis, const Tensor& idx);

// Rows of a table: weight [V, D] (F32/F64), idx I64 of any shape (values in [0, V)) →
// out [..idx.shape, D], out[.., :] = weight[idx[..], :]. d weight scatter-adds g into the
// rows (repeated ids accumulate, deterministically). A bad id throws
// "[embedding] index 300 out of range [0, 256) at position 5".
Tensor embedding(const Tensor& weight, const Tensor& idx);

}  // namespace sdnc
