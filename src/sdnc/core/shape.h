// shape.h — tensor shapes (row-major, contiguous) and axis helpers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sdnc {

using Shape = std::vector<int64_t>;

constexpr int kMaxDims = 8;

int64_t shape_numel(const Shape& s);
std::string shape_str(const Shape& s);  // "[2, 3, 4]"

// Maps a possibly negative axis into [0, ndim); throws "[op] axis a out of range for ndim d".
int normalize_axis(const char* op, int64_t axis, int64_t ndim);

// Row-major decomposition around an axis: outer = prod(shape[:axis]), n = shape[axis],
// inner = prod(shape[axis+1:]).
struct AxisSplit {
  int64_t outer, n, inner;
};
AxisSplit split_at_axis(const Shape& s, int axis);

// Broadcast two shapes numpy-style (align trailing dims; a dim of 1 stretches).
// Throws "[op] shapes [..] and [..] do not broadcast".
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace sdnc
