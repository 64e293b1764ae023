// viz/: PNG files that decode back to what was drawn, and clean failures for bad input.
#include <gtest/gtest.h>
#include <stb/stb_image.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "sdnc/sdnc.h"
#include "sdnc/viz/png_writer.h"

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

}  // namespace
}  // namespace sdnc::viz
