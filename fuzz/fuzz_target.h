// fuzz_target.h — what every fuzz target shares. A target is one file in fuzz/targets/ that
// defines LLVMFuzzerTestOneInput: it feeds the bytes to one reader of outside data and
// accepts exactly two outcomes, a result or an sdnc::Error whose message is one line that
// starts with "[where]". Anything else (a crash, a sanitizer report, another exception type,
// a multi-line or unlabelled message) is a finding. The same file is linked into libFuzzer
// (SDNC_FUZZ=ON, clang) and into the replay driver (replay_main.cpp) that the test suite runs
// over the corpus with the normal compiler.
#pragma once
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sdnc/core/error.h"
#include "sdnc/core/parallel.h"

namespace sdnc::fuzz {

// Aborts (a finding) unless the message is one "[where] ..." line. With SDNC_FUZZ_VERBOSE set,
// prints it (to see what the replay driver's inputs are refused for).
inline void check_message(const Error& e) {
  std::string m = e.what();
  static const bool verbose = std::getenv("SDNC_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "refused: %s\n", m.c_str());
  if (m.size() < 3 || m[0] != '[' || m.find(']') == std::string::npos || m.find('\n') != std::string::npos) {
    std::fprintf(stderr, "fuzz: badly formed error message: %s\n", m.c_str());
    std::abort();
  }
}

// Runs the library on the calling thread alone, from the first input on. A fuzzer is one
// process per core: helper threads (WorkerTeam, OpenMP, GEMM) would spin beside it for CPU that
// the fuzzer needs. No code path is lost: with no helpers the caller runs every block itself.
inline void use_one_thread() {
  static const bool once = (sdnc::set_num_threads(1), true);
  (void)once;
}

// The folder scratch files go to: /dev/shm when it exists, else /tmp.
inline const char* scratch_dir() { return access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"; }

inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size)) std::abort();
  std::fclose(f);
}

// A scratch file holding the input, for readers that take paths.
class ScratchFile {
 public:
  ScratchFile(const uint8_t* data, size_t size, const char* suffix)
      : path_(std::string(scratch_dir()) + "/sdnc_fuzz_" + std::to_string(getpid()) + suffix) {
    write_file(path_, data, size);
  }
  ~ScratchFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A scratch folder of named files, for readers that take a model folder. A name may hold one
// subfolder ("1_Pooling/config.json").
class ScratchDir {
 public:
  ScratchDir() : path_(std::string(scratch_dir()) + "/sdnc_fuzz_" + std::to_string(getpid()) + "_dir") {
    mkdir(path_.c_str(), 0700);
  }
  ~ScratchDir() {
    for (const std::string& name : names_) std::remove((path_ + "/" + name).c_str());
    for (const std::string& name : names_)
      if (name.find('/') != std::string::npos) rmdir((path_ + "/" + name.substr(0, name.find('/'))).c_str());
    rmdir(path_.c_str());
  }
  void add(const std::string& name, const uint8_t* data, size_t size) {
    if (name.find('/') != std::string::npos) mkdir((path_ + "/" + name.substr(0, name.find('/'))).c_str(), 0700);
    write_file(path_ + "/" + name, data, size);
    names_.push_back(name);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> names_;
};

}  // namespace sdnc::fuzz
