// fuzz_target.h — what every fuzz target shares. A target is one file in fuzz/targets/ that
// defines LLVMFuzzerTestOneInput: it feeds the bytes to one reader of outside data and
// accepts exactly two outcomes, a result or an sdnc::Error whose message is one line that
// starts with "[where]". Anything else (a crash, a sanitizer report, another exception type,
// a multi-line or unlabelled message) is a finding. The same file is linked into libFuzzer
// (SDNC_FUZZ=ON, clang) and into the replay driver (replay_main.cpp) that the test suite runs
// over the corpus with the normal compiler.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sdnc/core/error.h"

namespace sdnc::fuzz {

// Aborts (a finding) unless the message is one "[where] ..." line.
inline void check_message(const Error& e) {
  std::string m = e.what();
  if (m.size() < 3 || m[0] != '[' || m.find(']') == std::string::npos || m.find('\n') != std::string::npos) {
    std::fprintf(stderr, "fuzz: badly formed error message: %s\n", m.c_str());
    std::abort();
  }
}

// A scratch file (in /dev/shm when it exists) holding the input, for readers that take paths.
class ScratchFile {
 public:
  ScratchFile(const uint8_t* data, size_t size, const char* suffix) {
    const char* dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    path_ = std::string(dir) + "/sdnc_fuzz_" + std::to_string(getpid()) + suffix;
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size)) std::abort();
    std::fclose(f);
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace sdnc::fuzz
