// colormap.h — a perceptual colormap for heatmaps: our own table of nine anchor colours
// sampled from matplotlib's viridis (dark purple → blue → green → yellow), linearly
// interpolated. Monotone in lightness, readable in greyscale and by colour-blind readers.
#pragma once
#include "sdnc/viz/image.h"

namespace sdnc::viz {

// t in [0, 1] → colour; t is clamped; NaN gives kMissingColor.
Rgb viridis(double t);

// Cells whose value is NaN or ±inf: a neutral grey that viridis never produces.
inline constexpr Rgb kMissingColor{160, 160, 160};

}  // namespace sdnc::viz
