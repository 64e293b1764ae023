#include "sdnc/viz/line_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "sdnc/core/error.h"
#include "sdnc/viz/bitmap_font.h"

namespace sdnc::viz {

namespace {

constexpr int kMargin = 14, kScale = 2, kSwatch = 14;

// a line of thickness 2 from (x0, y0) to (x1, y1), clipped by Image::set
void draw_line(Image& img, int x0, int y0, int x1, int y1, Rgb c) {
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  while (true) {
    img.set(x0, y0, c), img.set(x0 + 1, y0, c), img.set(x0, y0 + 1, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) err += dy, x0 += sx;
    if (e2 <= dx) err += dx, y0 += sy;
  }
}

std::string tick_text(double v, bool log_y) {
  if (log_y) v = std::pow(10.0, v);
  if (v != 0 && (std::fabs(v) >= 1e4 || std::fabs(v) < 1e-2)) return fmt::format("{:.1e}", v);
  return fmt::format("{:.3g}", v);
}

}  // namespace

int LinePlotLayout::px(double x) const {
  const double f = x_hi > x_lo ? (x - x_lo) / (x_hi - x_lo) : 0.5;
  return plot_x + static_cast<int>(std::lround(f * (plot_w - 1)));
}
int LinePlotLayout::py(double y) const {
  const double f = y_hi > y_lo ? (y - y_lo) / (y_hi - y_lo) : 0.5;
  return plot_y + plot_h - 1 - static_cast<int>(std::lround(f * (plot_h - 1)));
}

Rgb series_color(size_t i) {
  static const Rgb colors[] = {{31, 119, 180}, {214, 39, 40},  {44, 160, 44},  {255, 127, 14}, {148, 103, 189},
                               {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return colors[i % (sizeof(colors) / sizeof(colors[0]))];
}

Image render_line_plot(const std::vector<LineSeries>& series, const LinePlotOptions& o, LinePlotLayout* out) {
  SDNC_CHECK(o.plot_width >= 32 && o.plot_height >= 32, "line_plot", "the plot must be at least 32 x 32 px, got {} x {}",
             o.plot_width, o.plot_height);
  SDNC_CHECK(!o.y_min || !o.y_max || *o.y_min <= *o.y_max, "line_plot", "y_min {} > y_max {}", *o.y_min, *o.y_max);
  // The plotted points of each series, and the data range.
  std::vector<std::vector<std::pair<double, double>>> points(series.size());
  double xl = std::numeric_limits<double>::infinity(), xh = -xl, yl = xl, yh = -xl;
  for (size_t s = 0; s < series.size(); ++s) {
    SDNC_CHECK(series[s].x.size() == series[s].y.size(), "line_plot", "series '{}': {} x values but {} y values",
               series[s].label, series[s].x.size(), series[s].y.size());
    for (size_t i = 0; i < series[s].x.size(); ++i) {
      double x = series[s].x[i], y = series[s].y[i];
      if (o.log_y) y = y > 0 ? std::log10(y) : std::nan("");
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      points[s].push_back({x, y});
      xl = std::min(xl, x), xh = std::max(xh, x), yl = std::min(yl, y), yh = std::max(yh, y);
    }
  }
  if (xl > xh) xl = 0, xh = 1, yl = 0, yh = 1;
  auto plotted = [&](double v) { return o.log_y ? std::log10(std::max(v, 1e-300)) : v; };
  if (o.y_min) yl = plotted(*o.y_min);
  if (o.y_max) yh = plotted(*o.y_max);

  const int th = text_height(kScale), label_w = text_width("-0.00e+00", kScale);
  int legend_w = 0;
  for (const auto& s : series) legend_w = std::max(legend_w, kSwatch + 6 + text_width(s.label, kScale));
  LinePlotLayout L;
  L.plot_x = kMargin + th + 8 + label_w + 6;
  L.plot_y = kMargin + th + 10;
  L.plot_w = o.plot_width, L.plot_h = o.plot_height;
  L.x_lo = xl, L.x_hi = xh, L.y_lo = yl, L.y_hi = yh;
  const int width = L.plot_x + L.plot_w + 20 + legend_w + kMargin;
  const int height = std::max(L.plot_y + L.plot_h + 8 + 2 * th + 14 + kMargin,
                              L.plot_y + static_cast<int>(series.size()) * (th + 6) + kMargin);
  Image img(width, height);

  draw_text(img, kMargin, kMargin, o.title, kInk, kScale);
  img.frame_rect(L.plot_x, L.plot_y, L.plot_w, L.plot_h, kInk);
  // ticks: both ends of each axis
  const int below = L.plot_y + L.plot_h + 6;
  draw_text(img, L.plot_x, below, tick_text(xl, false), kInk, kScale);
  const std::string xh_text = tick_text(xh, false);
  draw_text(img, L.plot_x + L.plot_w - text_width(xh_text, kScale), below, xh_text, kInk, kScale);
  draw_text(img, L.plot_x + (L.plot_w - text_width(o.x_label, kScale)) / 2, below + th + 6, o.x_label, kInk, kScale);
  const std::string yl_text = tick_text(yl, o.log_y), yh_text = tick_text(yh, o.log_y);
  draw_text(img, L.plot_x - 6 - text_width(yh_text, kScale), L.plot_y, yh_text, kInk, kScale);
  draw_text(img, L.plot_x - 6 - text_width(yl_text, kScale), L.plot_y + L.plot_h - th, yl_text, kInk, kScale);
  draw_text_up(img, kMargin, L.plot_y + (L.plot_h - text_width(o.y_label, kScale)) / 2, o.y_label, kInk, kScale);

  // the lines, clipped to the plot area
  Image area(L.plot_w, L.plot_h);
  LinePlotLayout local = L;
  local.plot_x = local.plot_y = 0;
  for (size_t s = 0; s < series.size(); ++s) {
    const auto& p = points[s];
    for (size_t i = 0; i < p.size(); ++i) {
      const int x = local.px(p[i].first), y = local.py(p[i].second);
      area.fill_rect(x - 2, y - 2, 5, 5, series[s].color);
      if (i > 0) draw_line(area, local.px(p[i - 1].first), local.py(p[i - 1].second), x, y, series[s].color);
    }
  }
  img.blit(area, L.plot_x, L.plot_y);
  img.frame_rect(L.plot_x, L.plot_y, L.plot_w, L.plot_h, kInk);
  // legend
  const int lx = L.plot_x + L.plot_w + 20;
  int row = 0;
  for (size_t s = 0; s < series.size(); ++s) {
    if (series[s].label.empty()) continue;  // unlabelled: a further line of a labelled group
    const int y = L.plot_y + (row++) * (th + 6);
    img.fill_rect(lx, y + (th - kSwatch) / 2, kSwatch, kSwatch, series[s].color);
    draw_text(img, lx + kSwatch + 6, y, series[s].label, kInk, kScale);
  }
  if (out) *out = L;
  return img;
}

}  // namespace sdnc::viz
