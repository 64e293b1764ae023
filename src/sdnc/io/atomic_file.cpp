#include "sdnc/io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <streambuf>
#include <vector>

#include "sdnc/core/error.h"

namespace sdnc {

namespace {

// Bytes this process may still write (SDNC_FAULT_DISK_BYTES), or -1: no limit.
std::atomic<int64_t>& disk_budget() {
  static std::atomic<int64_t> budget = [] {
    const char* env = std::getenv("SDNC_FAULT_DISK_BYTES");
    return env && *env ? static_cast<int64_t>(std::strtoll(env, nullptr, 10)) : int64_t{-1};
  }();
  return budget;
}

// write(2) with the injected budget: past it, fails like a full disk.
ssize_t checked_write(int fd, const char* p, size_t n) {
  auto& budget = disk_budget();
  if (budget.load() >= 0) {
    int64_t left = budget.load();
    if (left <= 0) {
      errno = ENOSPC;
      return -1;
    }
    n = std::min<size_t>(n, static_cast<size_t>(left));
    budget -= static_cast<int64_t>(n);
  }
  return ::write(fd, p, n);
}

// An ostream buffer over a file descriptor that remembers the first errno.
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd), buf_(1 << 16) { setp(buf_.data(), buf_.data() + buf_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!flush_buffer()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return flush_buffer() ? 0 : -1; }

 private:
  bool flush_buffer() {
    const char* p = pbase();
    size_t n = static_cast<size_t>(pptr() - pbase());
    while (n > 0 && error_ == 0) {
      ssize_t w = checked_write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        break;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    setp(buf_.data(), buf_.data() + buf_.size());
    return error_ == 0;
  }
  int fd_;
  std::vector<char> buf_;
  int error_ = 0;
};

std::string reason(int err) {
  return err == ENOSPC ? "no space left on device (ENOSPC)" : std::strerror(err);
}

}  // namespace

void remove_stale_temporaries(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string prefix = target.filename().string() + ".tmp.";
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::strtol(digits.c_str(), nullptr, 10));
    if (pid != getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

void inject_disk_full_after(int64_t bytes) { disk_budget().store(bytes); }

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write) {
  const std::string tmp = fmt::format("{}.tmp.{}", path, getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("write", "{}: cannot open {} for writing: {}", path, tmp, reason(errno));
  auto cleanup = [&] {
    if (fd >= 0) ::close(fd);
    fd = -1;
    std::remove(tmp.c_str());
  };
  try {
    FdBuf buf(fd);
    {
      std::ostream out(&buf);
      write(out);
      out.flush();
    }
    if (buf.error()) fail("write", "{}: write failed: {}; the previous file is left as it was", path, reason(buf.error()));
    if (::fsync(fd) != 0) fail("write", "{}: fsync failed: {}; the previous file is left as it was", path, reason(errno));
    if (::close(fd) != 0) {
      fd = -1;
      fail("write", "{}: close failed: {}; the previous file is left as it was", path, reason(errno));
    }
    fd = -1;
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      fail("write", "{}: cannot rename {} over it: {}", path, tmp, reason(errno));
  } catch (...) {
    cleanup();
    throw;
  }
  // The rename is durable once the directory entry is on disk.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    int rc = ::fsync(dfd);
    int err = errno;
    ::close(dfd);
    if (rc != 0 && err != EINVAL) fail("write", "{}: fsync of the directory failed: {}", path, reason(err));
  }
}

}  // namespace sdnc
