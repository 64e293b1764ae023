#include "sdnc/io/atomic_file.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "sdnc/core/error.h"

namespace sdnc {

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) fail("write", "{}: cannot open for writing", path);
      write(out);
      out.flush();
      if (!out) fail("write", "{}: write failed (disk full?)", path);
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) fail("write", "{}: cannot rename temporary file: {}", path, ec.message());
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace sdnc
