// backend/cpu/shape.h — CPU kernels of ops/shape. Copies work on any dtype (by element
// size); scatter-adds (the backward of the index ops) on F32/F64. Indices are assumed
// already checked by the op.
#pragma once
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc::cpu {

// out.shape[d] = x.shape[perm[d]]; out[i0, .., ik] = x[the same indices placed by perm].
void permute(const Tensor& x, const std::vector<int>& perm, Tensor& out);

// Copies a slab along one axis. src is viewed as [outer, src_n, inner], dst as
// [outer, dst_n, inner]; dst[o, dst_start + k, i] = src[o, src_start + k, i] for k < len.
void copy_slab(const Tensor& src, int64_t src_n, int64_t src_start, Tensor& dst, int64_t dst_n,
               int64_t dst_start, int64_t len, int64_t outer, int64_t inner);

// out[o, p, i] = x[o, idx[p], i]; x is [outer, n, inner] (n = s.n), idx [P], out [outer, P, inner].
void index_select(const Tensor& x, const AxisSplit& s, const Tensor& idx, Tensor& out);

// dx[o, r, i] = Σ_{p : idx[p] = r} g[o, p, i], summed in increasing p (dx is written fully).
void index_select_backward(const Tensor& g, const AxisSplit& s, const Tensor& idx, Tensor& dx);

// torch.gather along axis: out has idx's shape.
void gather(const Tensor& x, int axis, const Tensor& idx, Tensor& out);

// dx (x's shape, written fully) = scatter-add of g at the gathered places, in increasing
// position along axis.
void gather_backward(const Tensor& g, int axis, const Tensor& idx, Tensor& dx);

}  // namespace sdnc::cpu
