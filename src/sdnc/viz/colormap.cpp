#include "sdnc/viz/colormap.h"

#include <cmath>

namespace sdnc::viz {

namespace {
// viridis at t = 0, 1/8, ..., 1.
constexpr Rgb kAnchors[] = {{68, 1, 84},    {72, 40, 120},  {62, 73, 137},
                            {49, 104, 142}, {38, 130, 142}, {31, 158, 137},
                            {53, 183, 121}, {110, 206, 88}, {253, 231, 37}};
constexpr int kSegments = static_cast<int>(sizeof(kAnchors) / sizeof(kAnchors[0])) - 1;

uint8_t mix(uint8_t a, uint8_t b, double f) {
  return static_cast<uint8_t>(std::lround(a + (b - a) * f));
}
}  // namespace

Rgb viridis(double t) {
  if (std::isnan(t)) return kMissingColor;
  t = t < 0 ? 0 : (t > 1 ? 1 : t);
  double pos = t * kSegments;
  int i = static_cast<int>(pos);
  if (i >= kSegments) return kAnchors[kSegments];
  double f = pos - i;
  const Rgb& a = kAnchors[i];
  const Rgb& b = kAnchors[i + 1];
  return {mix(a.r, b.r, f), mix(a.g, b.g, f), mix(a.b, b.b, f)};
}

}  // namespace sdnc::viz
