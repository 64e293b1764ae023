#include "sdnc/viz/image.h"

#include <algorithm>

#include "sdnc/core/error.h"

namespace sdnc::viz {

Image::Image(int w, int h, Rgb background) : width(w), height(h) {
  SDNC_CHECK(w >= 0 && h >= 0, "image", "negative size {} x {}", w, h);
  pixels.resize(static_cast<size_t>(w) * h * 3);
  for (size_t i = 0; i < pixels.size(); i += 3) {
    pixels[i] = background.r;
    pixels[i + 1] = background.g;
    pixels[i + 2] = background.b;
  }
}

Rgb Image::at(int x, int y) const {
  const uint8_t* p = &pixels[(static_cast<size_t>(y) * width + x) * 3];
  return {p[0], p[1], p[2]};
}

void Image::set(int x, int y, Rgb c) {
  if (!contains(x, y)) return;
  uint8_t* p = &pixels[(static_cast<size_t>(y) * width + x) * 3];
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

void Image::fill_rect(int x, int y, int w, int h, Rgb c) {
  int x0 = std::max(x, 0), y0 = std::max(y, 0);
  int x1 = std::min(x + w, width), y1 = std::min(y + h, height);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) set(xx, yy, c);
}

void Image::frame_rect(int x, int y, int w, int h, Rgb c) {
  fill_rect(x - 1, y - 1, w + 2, 1, c);
  fill_rect(x - 1, y + h, w + 2, 1, c);
  fill_rect(x - 1, y, 1, h, c);
  fill_rect(x + w, y, 1, h, c);
}

void Image::blit(const Image& src, int x, int y) {
  for (int yy = 0; yy < src.height; ++yy)
    for (int xx = 0; xx < src.width; ++xx) set(x + xx, y + yy, src.at(xx, yy));
}

}  // namespace sdnc::viz
