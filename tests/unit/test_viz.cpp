// viz/: PNG files that decode back to what was drawn, heatmap cells where the layout says,
// legible sizes, NaN cells, the HTML trace page, and clean failures for bad input.
#include <gtest/gtest.h>
#include <stb/stb_image.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "sdnc/sdnc.h"
#include "sdnc/viz/bitmap_font.h"
#include "sdnc/viz/colormap.h"
#include "sdnc/viz/heatmap.h"
#include "sdnc/viz/png_writer.h"
#include "sdnc/viz/trace_page.h"

namespace sdnc::viz {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("sdnc_test_" + std::to_string(getpid()) + "_" + name)).string();
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

uint32_t big_endian32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// Decodes PNG bytes with stb_image (an independent reader) back into an Image.
Image decode_png(const std::string& bytes) {
  int w = 0, h = 0, channels = 0;
  unsigned char* data = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(bytes.data()),
                                              static_cast<int>(bytes.size()), &w, &h, &channels, 3);
  EXPECT_NE(data, nullptr) << stbi_failure_reason();
  Image img;
  if (!data) return img;
  img.width = w;
  img.height = h;
  img.pixels.assign(data, data + size_t(w) * h * 3);
  stbi_image_free(data);
  return img;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }
bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

std::string tmp_file_of(const std::string& path) { return path + ".tmp." + std::to_string(getpid()); }

// ---- PNG ---------------------------------------------------------------------------------

TEST(VizPng, FileIsAValidPngThatDecodesToTheSamePixels) {
  Image img(3, 2, kWhite);
  img.set(0, 0, {255, 0, 0});
  img.set(1, 0, {0, 255, 0});
  img.set(2, 1, {0, 0, 255});
  std::string path = temp_path("small.png");
  write_png(path, img);
  std::string bytes = read_all(path);
  ASSERT_GE(bytes.size(), 33u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian32(bytes, 16), 3u);  // width
  EXPECT_EQ(big_endian32(bytes, 20), 2u);  // height
  EXPECT_EQ(uint8_t(bytes[24]), 8);        // bit depth
  EXPECT_EQ(uint8_t(bytes[25]), 2);        // colour type: RGB
  Image back = decode_png(bytes);
  EXPECT_EQ(back.width, 3);
  EXPECT_EQ(back.height, 2);
  EXPECT_EQ(back.pixels, img.pixels);
  EXPECT_EQ(encode_png(img), bytes);
  EXPECT_FALSE(fs::exists(tmp_file_of(path)));
  fs::remove(path);
}

TEST(VizPng, UnwritablePathsFailCleanly) {
  Image img(4, 4, kWhite);
  std::string missing_dir = temp_path("no_such_dir") + "/out.png";
  std::string msg = error_of([&] { write_png(missing_dir, img); });
  EXPECT_TRUE(starts_with(msg, "[png] " + missing_dir + ": ")) << msg;
  EXPECT_TRUE(contains(msg, "does not exist")) << msg;
  EXPECT_FALSE(fs::exists(missing_dir));

  // The target is a directory: the temporary file is written, the rename fails, and the
  // temporary file is gone again.
  std::string dir = temp_path("a_directory.png");
  fs::create_directory(dir);
  msg = error_of([&] { write_png(dir, img); });
  EXPECT_TRUE(starts_with(msg, "[png] " + dir + ": ")) << msg;
  EXPECT_FALSE(fs::exists(tmp_file_of(dir)));
  EXPECT_TRUE(fs::is_directory(dir));
  fs::remove(dir);

  std::string path = temp_path("empty.png");
  msg = error_of([&] { write_png(path, Image()); });
  EXPECT_TRUE(starts_with(msg, "[png] " + path + ": empty image")) << msg;
  EXPECT_FALSE(fs::exists(path));
}

// ---- font --------------------------------------------------------------------------------

// The font pixels of one character, as a 5 x 9 image.
Image glyph_image(std::string_view c) {
  Image img(5, 9, kWhite);
  draw_text(img, 0, 0, c, kInk);
  return img;
}

TEST(VizFont, EveryPrintableCharacterHasItsOwnGlyph) {
  Image unknown = glyph_image("?");
  Image blank = glyph_image(" ");
  for (char c = '!'; c <= '~'; ++c) {
    if (c == '?') continue;
    Image g = glyph_image(std::string(1, c));
    EXPECT_NE(g.pixels, unknown.pixels) << "'" << c << "' is drawn as '?'";
    EXPECT_NE(g.pixels, blank.pixels) << "'" << c << "' is blank";
  }
  EXPECT_EQ(glyph_image("\x01").pixels, unknown.pixels);
  EXPECT_EQ(text_width("\xc3\xa9", 1), text_width("?", 1));  // one UTF-8 code point, one glyph
}

TEST(VizFont, TextStaysInsideItsMeasuredBox) {
  for (int scale : {1, 2, 3}) {
    std::string text = "gjpqy_ Wy 0.5";
    int w = text_width(text, scale), h = text_height(scale);
    EXPECT_EQ(w, (6 * int(text.size()) - 1) * scale);
    EXPECT_EQ(h, 9 * scale);
    Image img(w + 20, h + 20, kWhite);
    draw_text(img, 10, 10, text, kInk, scale);
    Image up(h + 20, w + 20, kWhite);
    draw_text_up(up, 10, 10, text, kInk, scale);
    for (const Image* im : {&img, &up}) {
      int bw = im == &img ? w : h, bh = im == &img ? h : w;
      int inked = 0;
      for (int y = 0; y < im->height; ++y)
        for (int x = 0; x < im->width; ++x)
          if (im->at(x, y) == kInk) {
            ++inked;
            EXPECT_TRUE(x >= 10 && x < 10 + bw && y >= 10 && y < 10 + bh) << x << "," << y;
          }
      EXPECT_GT(inked, 0);
    }
  }
  EXPECT_EQ(text_width("", 2), 0);
}

// ---- heatmap ----------------------------------------------------------------------------

TEST(VizHeatmap, SingleOneIsTheMaxColourInItsCellAndMinElsewhere) {
  std::vector<float> v(64, 0.0f);
  v[2 * 8 + 5] = 1.0f;
  HeatmapOptions o;
  o.title = "read weights";
  o.x_label = "memory slot";
  o.y_label = "step";
  HeatmapLayout L;
  Image img = render_heatmap(Tensor::from_vector(v, {8, 8}), o, &L);
  Image back = decode_png(encode_png(img));  // what a viewer would show
  ASSERT_EQ(back.pixels, img.pixels);
  EXPECT_EQ(L.rows, 8);
  EXPECT_EQ(L.cols, 8);
  EXPECT_GE(L.plot_w / 8, 20) << "cells of a small matrix are large enough to see";
  EXPECT_EQ(L.lo, 0.0);
  EXPECT_EQ(L.hi, 1.0);
  for (int r = 0; r < 8; ++r)
    for (int c = 0; c < 8; ++c) {
      Rgb want = (r == 2 && c == 5) ? viridis(1.0) : viridis(0.0);
      for (int y = L.cell_y(r); y < L.cell_y(r + 1); ++y)
        for (int x = L.cell_x(c); x < L.cell_x(c + 1); ++x)
          ASSERT_EQ(back.at(x, y), want) << "cell " << r << "," << c << " pixel " << x << "," << y;
    }
  EXPECT_NE(viridis(0.0), viridis(1.0));
}

TEST(VizHeatmap, FixedRangeAndF64) {
  std::vector<double> v(12, 0.5);
  v[0] = 2.0;  // above the range: clamped to the top colour
  HeatmapOptions o;
  o.vmin = 0.0;
  o.vmax = 1.0;
  HeatmapLayout L;
  Image img = render_heatmap(Tensor::from_vector(v, {3, 4}, DType::F64), o, &L);
  EXPECT_EQ(L.lo, 0.0);
  EXPECT_EQ(L.hi, 1.0);
  EXPECT_EQ(img.at(L.cell_x(0), L.cell_y(0)), viridis(1.0));
  EXPECT_EQ(img.at(L.cell_x(3), L.cell_y(2)), viridis(0.5));
}

TEST(VizHeatmap, SizesStayReadableAndBounded) {
  HeatmapOptions o;
  o.title = "attention";
  o.x_label = "key";
  o.y_label = "query";
  for (auto [rows, cols] : std::vector<std::pair<int, int>>{{1, 1}, {8, 8}, {200, 200}, {3, 5000}, {1000, 2}}) {
    HeatmapLayout L;
    Image img = render_heatmap(Tensor::zeros({rows, cols}), o, &L);
    EXPECT_LE(img.width, 1200) << rows << "x" << cols;
    EXPECT_LE(img.height, 1200) << rows << "x" << cols;
    EXPECT_LE(L.plot_w, o.max_plot_px);
    EXPECT_LE(L.plot_h, o.max_plot_px);
    EXPECT_GE(L.plot_w, std::min(cols, 16));
    EXPECT_GE(L.plot_h, std::min(rows, 16));
  }
}

TEST(VizHeatmap, NonFiniteCellsAreGreyAndCountedInALegend) {
  std::vector<float> v = {0, 1, 2, 3};
  Tensor finite = Tensor::from_vector(v, {2, 2});
  v[0] = std::numeric_limits<float>::quiet_NaN();
  v[3] = std::numeric_limits<float>::infinity();
  HeatmapLayout L;
  Image img = render_heatmap(Tensor::from_vector(v, {2, 2}), {}, &L);
  EXPECT_EQ(L.lo, 1.0);  // range of the finite values only
  EXPECT_EQ(L.hi, 2.0);
  EXPECT_EQ(img.at(L.cell_x(0), L.cell_y(0)), kMissingColor);
  EXPECT_EQ(img.at(L.cell_x(1), L.cell_y(1)), kMissingColor);
  EXPECT_EQ(img.at(L.cell_x(1), L.cell_y(0)), viridis(0.0));
  EXPECT_EQ(img.at(L.cell_x(0), L.cell_y(1)), viridis(1.0));
  Image plain = render_heatmap(finite, {});
  EXPECT_GE(img.width, plain.width);
  int grey_outside_plot = 0;
  for (int y = L.plot_y + L.plot_h + 1; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) grey_outside_plot += img.at(x, y) == kMissingColor;
  EXPECT_GT(grey_outside_plot, 0) << "a grey swatch in the legend";

  std::vector<float> all_nan(4, std::numeric_limits<float>::quiet_NaN());
  EXPECT_NO_THROW(render_heatmap(Tensor::from_vector(all_nan, {2, 2}), {}));
}

TEST(VizHeatmap, RejectsWhatItCannotDraw) {
  auto msg = [](const Tensor& t, HeatmapOptions o = {}) { return error_of([&] { render_heatmap(t, o); }); };
  EXPECT_TRUE(starts_with(msg(Tensor::zeros({2, 3, 4})), "[heatmap] expects a 2-D tensor [rows, cols], got shape [2, 3, 4]"))
      << msg(Tensor::zeros({2, 3, 4}));
  EXPECT_TRUE(starts_with(msg(Tensor::zeros({5})), "[heatmap] expects a 2-D tensor"));
  EXPECT_TRUE(starts_with(msg(Tensor::zeros({0, 4})), "[heatmap] empty tensor of shape [0, 4]"))
      << msg(Tensor::zeros({0, 4}));
  EXPECT_TRUE(starts_with(msg(Tensor::from_indices({1, 2}, {1, 2})), "[heatmap] expects a floating tensor"))
      << msg(Tensor::from_indices({1, 2}, {1, 2}));
  EXPECT_TRUE(starts_with(msg(Tensor()), "[heatmap] undefined tensor"));
  HeatmapOptions bad;
  bad.vmin = 1.0;
  bad.vmax = 0.0;
  EXPECT_TRUE(starts_with(msg(Tensor::zeros({2, 2}), bad), "[heatmap] vmin 1 > vmax 0")) << msg(Tensor::zeros({2, 2}), bad);
}

TEST(VizHeatmap, PanelsShareOneScale) {
  // Panel 0 holds 0s, panel 1 holds 1s: with a shared scale they take the two end colours.
  std::vector<float> v(2 * 4 * 4, 0.0f);
  std::fill(v.begin() + 16, v.end(), 1.0f);
  Tensor t = Tensor::from_vector(v, {2, 4, 4});
  Image grid = render_heatmap_panels(t, {}, {"head 0", "head 1"}, "layer 0");
  HeatmapLayout L;
  HeatmapOptions titled;
  titled.title = "head 0";
  Image one = render_heatmap(Tensor::zeros({4, 4}), titled, &L);
  EXPECT_GT(grid.width, 2 * one.width);
  int low = 0, high = 0;
  for (int y = 0; y < grid.height; ++y)
    for (int x = 0; x < grid.width; ++x) {
      low += grid.at(x, y) == viridis(0.0);
      high += grid.at(x, y) == viridis(1.0);
    }
  EXPECT_GE(low, L.plot_w * L.plot_h);
  EXPECT_GE(high, L.plot_w * L.plot_h);
  EXPECT_TRUE(starts_with(error_of([&] { render_heatmap_panels(t, {}, {"only one"}); }),
                          "[heatmap] 1 panel titles for 2 panels"));
  EXPECT_TRUE(starts_with(error_of([&] { render_heatmap_panels(Tensor::zeros({4, 4}), {}); }),
                          "[heatmap] expects a 3-D tensor [P, rows, cols]"));
  EXPECT_TRUE(starts_with(error_of([] { side_by_side({}); }), "[side_by_side] no panels"));
  Image col = side_by_side({one, one, one}, "", 1);
  EXPECT_GT(col.height, 3 * one.height);
  EXPECT_LT(col.width, 2 * one.width);
}

// ---- HTML page ---------------------------------------------------------------------------

TEST(VizTracePage, ListsFiguresAndEscapesText) {
  TracePage page;
  page.title = "copy task <T=8>";
  page.sections = {{"input", "a b <eos>\n1 & 2"}, {"output", "a b"}};
  page.figures = {{"layer0_read.png", "read weights, layer 0 (\"head\" <0>)"}, {"sub dir/x.png", "x"}};
  std::string html = render_trace_page(page);
  EXPECT_TRUE(contains(html, "<img src=\"layer0_read.png\""));
  EXPECT_TRUE(contains(html, "<img src=\"sub dir/x.png\""));
  EXPECT_TRUE(contains(html, "<figcaption>read weights, layer 0 (&quot;head&quot; &lt;0&gt;)</figcaption>"));
  EXPECT_TRUE(contains(html, "<pre>a b &lt;eos&gt;\n1 &amp; 2</pre>"));
  EXPECT_TRUE(contains(html, "<h1>copy task &lt;T=8&gt;</h1>"));
  EXPECT_FALSE(contains(html, "<eos>"));
  EXPECT_FALSE(contains(html, "<T=8>"));
  EXPECT_EQ(html_escape("<a href='x'>&</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;");

  std::string path = temp_path("trace.html");
  write_trace_page(path, page);
  EXPECT_EQ(read_all(path), html);
  EXPECT_FALSE(fs::exists(tmp_file_of(path)));
  fs::remove(path);
}

TEST(VizTracePage, FailsCleanly) {
  TracePage page;
  page.figures = {{"/abs/x.png", "x"}};
  std::string path = temp_path("bad_trace.html");
  std::string msg = error_of([&] { write_trace_page(path, page); });
  EXPECT_TRUE(starts_with(msg, "[trace_page] " + path + ": figure file /abs/x.png must be relative")) << msg;
  EXPECT_FALSE(fs::exists(path));
  std::string nowhere = temp_path("no_such_dir") + "/trace.html";
  msg = error_of([&] { write_trace_page(nowhere, TracePage{}); });
  EXPECT_TRUE(starts_with(msg, "[trace_page] " + nowhere + ": ")) << msg;
  EXPECT_FALSE(fs::exists(nowhere));
}

}  // namespace
}  // namespace sdnc::viz
