// image.h — an 8-bit RGB raster that the viz/ drawing functions paint into and png_writer
// saves. Row-major, top row first, 3 bytes per pixel: pixels is [height, width, 3].
#pragma once
#include <cstdint>
#include <vector>

namespace sdnc::viz {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kInk{25, 25, 25};  // text, axes and frames

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3]

  Image() = default;
  // A width x height image filled with background; throws "[image] ..." for negative sizes.
  Image(int width, int height, Rgb background = kWhite);

  bool empty() const { return width == 0 || height == 0; }
  bool contains(int x, int y) const { return x >= 0 && y >= 0 && x < width && y < height; }
  // Unchecked pixel access; (x, y) must be inside.
  Rgb at(int x, int y) const;
  // Pixel writes outside the image are ignored (drawing clips).
  void set(int x, int y, Rgb c);
  void fill_rect(int x, int y, int w, int h, Rgb c);
  // A one-pixel outline just outside the rectangle (x, y, w, h).
  void frame_rect(int x, int y, int w, int h, Rgb c);
  // Copies src with its top-left corner at (x, y), clipped.
  void blit(const Image& src, int x, int y);
};

}  // namespace sdnc::viz
