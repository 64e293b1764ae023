// heatmap.h — a matrix drawn as coloured cells (viridis), with a title, axis labels, index
// tick labels, and a colour bar that shows the value range. Meant for read and attention
// weights ([T, T] per head, [T, N] per read head), memory contents [N, W], usage, and so on.
//
// Sizes: a cell is at most 40 px a side (an 8 x 8 matrix gives a 320 x 320 plot) and the plot
// is at most max_plot_px along each axis (200 x 200 gives 800 x 800 at 4 px a cell); a matrix
// with more rows or columns than max_plot_px is sampled (nearest cell) to fit. Labels, ticks
// and the colour bar add roughly 150-250 px, so a default figure stays under about 1100 px.
//
// Values: NaN and ±inf cells are drawn in grey (kMissingColor), left out of the data range,
// and counted in a legend line under the plot. With no fixed range the colours span the
// finite data min..max; if every finite value is equal, all cells take the middle colour.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "sdnc/core/tensor.h"
#include "sdnc/viz/image.h"

namespace sdnc::viz {

struct HeatmapOptions {
  std::string title;    // above the plot
  std::string x_label;  // under the plot: what the columns index (e.g. "key position")
  std::string y_label;  // left of the plot, turned: what the rows index (e.g. "query position")
  // Value at the bottom / top of the colour scale; unset = the finite data min / max.
  // Set both to 0 and 1 for weightings. Values outside are clamped to the end colours.
  std::optional<double> vmin, vmax;
  int max_plot_px = 800;  // the plot's largest width or height in pixels (>= 16)
};

// Where the cells landed in a rendered heatmap (for tests and overlays): cell (r, c) covers
// the pixels x in [cell_x(c), cell_x(c + 1)), y in [cell_y(r), cell_y(r + 1)).
struct HeatmapLayout {
  int plot_x = 0, plot_y = 0, plot_w = 0, plot_h = 0;
  int rows = 0, cols = 0;
  double lo = 0, hi = 0;  // the value range of the colour scale
  int cell_x(int c) const { return plot_x + static_cast<int>((int64_t(c) * plot_w + cols - 1) / cols); }
  int cell_y(int r) const { return plot_y + static_cast<int>((int64_t(r) * plot_h + rows - 1) / rows); }
};

// values: [rows, cols], F32 or F64, CPU, at least one element. Throws "[heatmap] ..." for
// any other tensor and for vmin > vmax. If layout is given, it receives the cell geometry.
Image render_heatmap(const Tensor& values, const HeatmapOptions& o,
                     HeatmapLayout* layout = nullptr);

// values: [P, rows, cols] — one panel per head (or layer, or step), laid out with
// side_by_side under title. Panel p is titled panel_titles[p] (or "<o.title> <p>" when
// panel_titles is empty). With vmin/vmax unset, every panel uses the range of the whole
// tensor, so equal colours mean equal values across panels.
Image render_heatmap_panels(const Tensor& values, const HeatmapOptions& o,
                            const std::vector<std::string>& panel_titles = {},
                            const std::string& title = "", int columns = 0);

// Lays panels out in a grid, left to right then top to bottom, under an optional title.
// columns = 0: as many as fit in 1600 px (at least one). Panels of different sizes are
// top-left aligned in equal grid cells.
Image side_by_side(const std::vector<Image>& panels, const std::string& title = "", int columns = 0);

}  // namespace sdnc::viz
