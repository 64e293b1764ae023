// line_plot.h — lines of (x, y) points on shared axes, with a title, axis labels, tick values
// at both ends of each axis, and a legend of the series' labels and colours. For curves over
// training (loss vs wall time) and metrics over a few settings (accuracy vs length). Series
// with an empty label are drawn but left out of the legend (further lines of one group).
//
// The axes span the finite data (or the fixed ranges given); log_y draws log10(y) and leaves
// out points with y <= 0. Points whose x or y is not finite are left out; a series with fewer
// than two points left is drawn as its single point (or not at all).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "sdnc/viz/image.h"

namespace sdnc::viz {

struct LineSeries {
  std::string label;
  Rgb color;
  std::vector<double> x, y;  // the same length
};

struct LinePlotOptions {
  std::string title, x_label, y_label;
  std::optional<double> y_min, y_max;  // fixed y range (in data units); unset: the data's
  bool log_y = false;
  int plot_width = 640, plot_height = 360;  // the plotting area in pixels (>= 32)
};

// Where data lands in a rendered plot (for tests): pixel column of x, row of y.
struct LinePlotLayout {
  int plot_x = 0, plot_y = 0, plot_w = 0, plot_h = 0;
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;  // y in plotted units (log10 when log_y)
  int px(double x) const;
  int py(double y_plotted) const;
};

// Throws "[line_plot] ..." for series whose x and y differ in length, a plot under 32 px, or
// y_min > y_max.
Image render_line_plot(const std::vector<LineSeries>& series, const LinePlotOptions& o,
                       LinePlotLayout* layout = nullptr);

// A few well-separated colours for series (cycled).
Rgb series_color(size_t i);

}  // namespace sdnc::viz
