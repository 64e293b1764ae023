#include "sdnc/core/shape.h"

#include "sdnc/core/error.h"

namespace sdnc {

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

int normalize_axis(const char* op, int64_t axis, int64_t ndim) {
  int64_t a = axis < 0 ? axis + ndim : axis;
  if (a < 0 || a >= ndim) fail(op, "axis {} out of range for a tensor of {} dims", axis, ndim);
  return static_cast<int>(a);
}

AxisSplit split_at_axis(const Shape& s, int axis) {
  AxisSplit r{1, s[axis], 1};
  for (int i = 0; i < axis; ++i) r.outer *= s[i];
  for (size_t i = axis + 1; i < s.size(); ++i) r.inner *= s[i];
  return r;
}

Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      fail(op, "shapes {} and {} do not broadcast", shape_str(a), shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace sdnc
