#include "sdnc/viz/png_writer.h"

#include <stb/stb_image_write.h>

#include <filesystem>

#include "sdnc/core/error.h"
#include "sdnc/io/atomic_file.h"

namespace sdnc::viz {

namespace {

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data), size);
}

// Why image cannot be encoded, or "" when it can.
std::string image_problem(const Image& image) {
  if (image.width <= 0 || image.height <= 0)
    return fmt::format("empty image ({} x {})", image.width, image.height);
  if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3)
    return fmt::format("{} x {} image holds {} bytes, expected {}", image.width, image.height,
                       image.pixels.size(), static_cast<size_t>(image.width) * image.height * 3);
  return "";
}

}  // namespace

std::string encode_png(const Image& image) {
  std::string problem = image_problem(image);
  if (!problem.empty()) fail("png", "{}", problem);
  std::string bytes;
  int ok = stbi_write_png_to_func(append_bytes, &bytes, image.width, image.height, 3,
                                  image.pixels.data(), image.width * 3);
  if (!ok) fail("png", "encoding a {} x {} image failed", image.width, image.height);
  return bytes;
}

void write_png(const std::string& path, const Image& image) {
  std::string problem = image_problem(image);
  if (!problem.empty()) fail("png", "{}: {}", path, problem);
  namespace fs = std::filesystem;
  fs::path parent = fs::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !fs::is_directory(parent, ec))
    fail("png", "{}: directory {} does not exist", path, parent.string());
  std::string bytes = encode_png(image);
  try {
    write_file_atomically(path, [&](std::ostream& out) {
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    });
  } catch (const Error& e) {
    // atomic_file says "[write] <path>: <problem>"; keep the problem, name the op.
    std::string msg = e.what();
    std::string prefix = "[write] " + path + ": ";
    if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
    fail("png", "{}: {}", path, msg);
  }
}

}  // namespace sdnc::viz
