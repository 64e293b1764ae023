// png_writer.h — saving an Image as an 8-bit RGB PNG (stb_image_write from libstb-dev).
// The file is written to a temporary file beside path and renamed, so a reader never sees a
// half-written PNG and a failed write leaves no file behind.
#pragma once
#include <string>

#include "sdnc/viz/image.h"

namespace sdnc::viz {

// The PNG file's bytes. Throws "[png] ..." for an empty or inconsistent image.
std::string encode_png(const Image& image);

// Writes image to path atomically. Throws "[png] <path>: <problem>" (empty image, missing
// directory, unwritable location, full disk).
void write_png(const std::string& path, const Image& image);

}  // namespace sdnc::viz
