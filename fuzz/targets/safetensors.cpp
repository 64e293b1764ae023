// Fuzz target: the safetensors reader (io/safetensors.h) on a whole file's bytes.
#include "fuzz_target.h"
#include "sdnc/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    sdnc::SafetensorsFile f = sdnc::parse_safetensors(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    // What was accepted is self-consistent: every tensor's bytes lie inside the input.
    size_t bytes = 0;
    for (auto& [name, t] : f.tensors) bytes += static_cast<size_t>(t.numel());
    if (bytes > size * 8 + 8) std::abort();
  } catch (const sdnc::Error& e) {
    sdnc::fuzz::check_message(e);
  }
  return 0;
}
