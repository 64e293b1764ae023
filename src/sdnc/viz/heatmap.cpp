#include "sdnc/viz/heatmap.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sdnc/core/error.h"
#include "sdnc/viz/bitmap_font.h"
#include "sdnc/viz/colormap.h"

namespace sdnc::viz {

namespace {

constexpr int kMargin = 14;
constexpr int kMaxCell = 40;
constexpr int kTickLen = 5;
constexpr int kBarWidth = 18;
constexpr int kMinBarHeight = 160;
constexpr int kTitleScale = 2;
constexpr int kLabelScale = 2;
constexpr int kTickScale = 2;
constexpr int kPanelGap = 16;
constexpr int kGridMaxWidth = 1600;

// Finite min and max of v[0..n); nullopt when no value is finite.
std::optional<std::pair<double, double>> finite_range(const double* v, int64_t n) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(v[i])) lo = std::min(lo, v[i]), hi = std::max(hi, v[i]);
  if (lo > hi) return std::nullopt;
  return std::make_pair(lo, hi);
}

// The colour-scale range: vmin/vmax where set, else the finite data range ([0, 1] when
// nothing is finite).
std::pair<double, double> scale_range(const double* v, int64_t n, const HeatmapOptions& o) {
  auto data = finite_range(v, n);
  double lo = o.vmin ? *o.vmin : (data ? data->first : 0.0);
  double hi = o.vmax ? *o.vmax : (data ? data->second : 1.0);
  if (!o.vmax && hi < lo) hi = lo;  // only vmin was set, above all the data
  if (!o.vmin && lo > hi) lo = hi;
  return {lo, hi};
}

void check_options(const HeatmapOptions& o) {
  SDNC_CHECK(!o.vmin || std::isfinite(*o.vmin), "heatmap", "vmin must be finite, got {}", *o.vmin);
  SDNC_CHECK(!o.vmax || std::isfinite(*o.vmax), "heatmap", "vmax must be finite, got {}", *o.vmax);
  SDNC_CHECK(!o.vmin || !o.vmax || *o.vmin <= *o.vmax, "heatmap", "vmin {} > vmax {}", *o.vmin,
             *o.vmax);
  SDNC_CHECK(o.max_plot_px >= 16, "heatmap", "max_plot_px must be at least 16, got {}",
             o.max_plot_px);
}

// Checks values is a non-empty CPU float tensor with `dims` dims; returns its values as doubles.
std::vector<double> checked_values(const Tensor& values, int64_t dims, const char* shape_doc) {
  SDNC_CHECK(values.defined(), "heatmap", "undefined tensor");
  check_cpu("heatmap", values);
  dispatch_floating(values.dtype(), "heatmap", [](auto) {});
  SDNC_CHECK(values.ndim() == dims, "heatmap", "expects a {}-D tensor {}, got shape {}", dims,
             shape_doc, shape_str(values.shape()));
  SDNC_CHECK(values.numel() > 0, "heatmap", "empty tensor of shape {}", shape_str(values.shape()));
  for (int64_t d : values.shape())
    SDNC_CHECK(d <= (1 << 24), "heatmap", "dimension {} of shape {} is too large to draw", d,
               shape_str(values.shape()));
  return values.to_doubles();
}

std::string value_label(double v) { return fmt::format("{:.4g}", v); }

// (lo + hi) / 2, shown as 0 when it is within 1e-6 of the range from 0 (a near-symmetric range).
double bar_middle(double lo, double hi) {
  double mid = lo + (hi - lo) / 2;
  return std::abs(mid) < 1e-6 * (hi - lo) ? 0.0 : mid;
}

// Plot extent along one axis of n cells: n whole cells of at most kMaxCell px, or max_px
// (sampled) when there are more cells than pixels.
int plot_extent(int n, int max_px) {
  if (n > max_px) return max_px;
  return n * std::clamp(max_px / n, 1, kMaxCell);
}

// Label every step-th index, step from 1, 2, 5, 10, 20, 50, ..., the smallest that leaves
// `room` pixels per label.
int tick_step(int n, int extent, int room) {
  for (int64_t step = 1;; step *= 10)
    for (int64_t m : {1, 2, 5})
      if (step * m * extent >= int64_t(room) * n || step * m >= n) return static_cast<int>(step * m);
}

// Centre pixel of cell i of n along an axis starting at origin with the given extent.
int cell_centre(int origin, int extent, int n, int i) {
  return origin + static_cast<int>((int64_t(2 * i + 1) * extent) / (2 * int64_t(n)));
}

Image render_panel(const double* v, int rows, int cols, const HeatmapOptions& o, double lo,
                   double hi, HeatmapLayout* layout) {
  // ---- measure -----------------------------------------------------------------------
  int plot_w = plot_extent(cols, o.max_plot_px);
  int plot_h = plot_extent(rows, o.max_plot_px);
  int tick_h = text_height(kTickScale);
  int x_step = tick_step(cols, plot_w, text_width(std::to_string(cols - 1), kTickScale) + 10);
  int y_step = tick_step(rows, plot_h, tick_h + 4);
  int y_tick_w = 0;
  for (int r = 0; r < rows; r += y_step)
    y_tick_w = std::max(y_tick_w, text_width(std::to_string(r), kTickScale));
  int64_t missing = 0;
  for (int64_t i = 0; i < int64_t(rows) * cols; ++i) missing += !std::isfinite(v[i]);

  int y_label_w = o.y_label.empty() ? 0 : text_height(kLabelScale) + 10;
  int plot_x = kMargin + y_label_w + y_tick_w + 4 + kTickLen + 1;
  int title_h = o.title.empty() ? 0 : text_height(kTitleScale) + 14;
  int plot_y = kMargin + title_h + 1;

  int half_last_x_tick = text_width(std::to_string((cols - 1) / x_step * x_step), kTickScale) / 2;
  int bar_x = plot_x + plot_w + 1 + std::max(20, half_last_x_tick + 8);
  int bar_y = plot_y;
  int bar_h = std::max(plot_h, kMinBarHeight);
  std::string hi_text = value_label(hi), lo_text = value_label(lo), mid_text = value_label(bar_middle(lo, hi));
  int bar_label_x = bar_x + kBarWidth + 1 + 4 + 6;  // after a 4 px tick and a gap (not a minus)
  int width = bar_label_x +
              std::max({text_width(hi_text, kTickScale), text_width(lo_text, kTickScale),
                        text_width(mid_text, kTickScale)}) +
              kMargin;

  int cursor = plot_y + plot_h + 1 + kTickLen + 3;
  int x_tick_y = cursor;
  cursor += tick_h + 10;
  int x_label_y = cursor;
  if (!o.x_label.empty()) cursor += text_height(kLabelScale) + 10;
  int legend_y = cursor;
  std::string legend = fmt::format("grey: NaN or inf ({} cell{})", missing, missing == 1 ? "" : "s");
  if (missing > 0) cursor += tick_h + 10;
  int height = std::max(cursor - 10, bar_y + bar_h + 1) + kMargin;

  int title_w = text_width(o.title, kTitleScale);
  int title_x = std::max(kMargin, plot_x + plot_w / 2 - title_w / 2);
  int x_label_w = text_width(o.x_label, kLabelScale);
  int x_label_x = std::max(kMargin, plot_x + plot_w / 2 - x_label_w / 2);
  int legend_w = tick_h + 8 + text_width(legend, kTickScale);
  width = std::max({width, title_x + title_w + kMargin, x_label_x + x_label_w + kMargin,
                    missing > 0 ? plot_x + legend_w + kMargin : 0});
  int y_label_len = text_width(o.y_label, kLabelScale);
  height = std::max(height, plot_y + y_label_len + kMargin);

  Image img(width, height, kWhite);

  // ---- cells -------------------------------------------------------------------------
  double span = hi - lo;
  std::vector<int> col_of(plot_w);
  for (int px = 0; px < plot_w; ++px) col_of[px] = static_cast<int>(int64_t(px) * cols / plot_w);
  for (int py = 0; py < plot_h; ++py) {
    int r = static_cast<int>(int64_t(py) * rows / plot_h);
    for (int px = 0; px < plot_w; ++px) {
      double x = v[int64_t(r) * cols + col_of[px]];
      Rgb c = !std::isfinite(x) ? kMissingColor : viridis(span > 0 ? (x - lo) / span : 0.5);
      img.set(plot_x + px, plot_y + py, c);
    }
  }
  img.frame_rect(plot_x, plot_y, plot_w, plot_h, kInk);

  // ---- ticks and labels --------------------------------------------------------------
  for (int c = 0; c < cols; c += x_step) {
    int cx = cell_centre(plot_x, plot_w, cols, c);
    img.fill_rect(cx, plot_y + plot_h + 1, 1, kTickLen, kInk);
    std::string t = std::to_string(c);
    draw_text(img, cx - text_width(t, kTickScale) / 2, x_tick_y, t, kInk, kTickScale);
  }
  for (int r = 0; r < rows; r += y_step) {
    int cy = cell_centre(plot_y, plot_h, rows, r);
    img.fill_rect(plot_x - 1 - kTickLen, cy, kTickLen, 1, kInk);
    std::string t = std::to_string(r);
    draw_text(img, plot_x - 1 - kTickLen - 4 - text_width(t, kTickScale), cy - tick_h / 2 + 1, t,
              kInk, kTickScale);
  }
  draw_text(img, title_x, kMargin, o.title, kInk, kTitleScale);
  draw_text(img, x_label_x, x_label_y, o.x_label, kInk, kLabelScale);
  draw_text_up(img, kMargin, std::max(plot_y, plot_y + plot_h / 2 - y_label_len / 2), o.y_label,
               kInk, kLabelScale);

  // ---- colour bar: top = hi, bottom = lo ----------------------------------------------
  for (int y = 0; y < bar_h; ++y)
    img.fill_rect(bar_x, bar_y + y, kBarWidth, 1, viridis(1.0 - double(y) / (bar_h - 1)));
  img.frame_rect(bar_x, bar_y, kBarWidth, bar_h, kInk);
  // Labels beside small ticks: hi at the top, lo at the bottom, the middle value between.
  auto bar_label = [&](int y, int text_y, const std::string& text) {
    img.fill_rect(bar_x + kBarWidth + 1, y, 4, 1, kInk);
    draw_text(img, bar_label_x, text_y, text, kInk, kTickScale);
  };
  bar_label(bar_y, bar_y, hi_text);
  bar_label(bar_y + bar_h - 1, bar_y + bar_h - tick_h, lo_text);
  if (hi > lo && bar_h >= 5 * tick_h)
    bar_label(bar_y + bar_h / 2, bar_y + bar_h / 2 - tick_h / 2 + 1, mid_text);

  if (missing > 0) {
    img.fill_rect(plot_x, legend_y, tick_h, tick_h, kMissingColor);
    img.frame_rect(plot_x, legend_y, tick_h, tick_h, kInk);
    draw_text(img, plot_x + tick_h + 8, legend_y, legend, kInk, kTickScale);
  }

  if (layout) *layout = {plot_x, plot_y, plot_w, plot_h, rows, cols, lo, hi};
  return img;
}

}  // namespace

Image render_heatmap(const Tensor& values, const HeatmapOptions& o, HeatmapLayout* layout) {
  check_options(o);
  std::vector<double> v = checked_values(values, 2, "[rows, cols]");
  auto [lo, hi] = scale_range(v.data(), static_cast<int64_t>(v.size()), o);
  return render_panel(v.data(), static_cast<int>(values.size(0)),
                      static_cast<int>(values.size(1)), o, lo, hi, layout);
}

Image render_heatmap_panels(const Tensor& values, const HeatmapOptions& o,
                            const std::vector<std::string>& panel_titles, const std::string& title,
                            int columns) {
  check_options(o);
  std::vector<double> v = checked_values(values, 3, "[P, rows, cols]");
  int panels = static_cast<int>(values.size(0));
  int rows = static_cast<int>(values.size(1)), cols = static_cast<int>(values.size(2));
  SDNC_CHECK(panel_titles.empty() || static_cast<int>(panel_titles.size()) == panels, "heatmap",
             "{} panel titles for {} panels", panel_titles.size(), panels);
  auto [lo, hi] = scale_range(v.data(), static_cast<int64_t>(v.size()), o);
  std::vector<Image> images;
  for (int p = 0; p < panels; ++p) {
    HeatmapOptions po = o;
    po.title = panel_titles.empty() ? (o.title.empty() ? std::to_string(p) : fmt::format("{} {}", o.title, p))
                                    : panel_titles[p];
    images.push_back(render_panel(v.data() + int64_t(p) * rows * cols, rows, cols, po, lo, hi, nullptr));
  }
  return side_by_side(images, title, columns);
}

Image side_by_side(const std::vector<Image>& panels, const std::string& title, int columns) {
  SDNC_CHECK(!panels.empty(), "side_by_side", "no panels");
  SDNC_CHECK(columns >= 0, "side_by_side", "columns must be >= 0, got {}", columns);
  int cell_w = 0, cell_h = 0;
  for (const Image& p : panels) cell_w = std::max(cell_w, p.width), cell_h = std::max(cell_h, p.height);
  int n = static_cast<int>(panels.size());
  if (columns == 0) columns = std::clamp((kGridMaxWidth - 2 * kMargin + kPanelGap) / (cell_w + kPanelGap), 1, n);
  columns = std::min(columns, n);
  int grid_rows = (n + columns - 1) / columns;
  int title_h = title.empty() ? 0 : text_height(kTitleScale) + 14;
  int width = std::max(2 * kMargin + columns * cell_w + (columns - 1) * kPanelGap,
                       2 * kMargin + text_width(title, kTitleScale));
  int height = kMargin + title_h + grid_rows * cell_h + (grid_rows - 1) * kPanelGap + kMargin;
  Image img(width, height, kWhite);
  draw_text(img, kMargin, kMargin, title, kInk, kTitleScale);
  for (int i = 0; i < n; ++i)
    img.blit(panels[i], kMargin + (i % columns) * (cell_w + kPanelGap),
             kMargin + title_h + (i / columns) * (cell_h + kPanelGap));
  return img;
}

}  // namespace sdnc::viz
