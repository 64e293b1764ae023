// safetensors.h — reading and writing the safetensors format: 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then
// the raw little-endian bytes. Readable by Python's `safetensors` and by torch.
//
// Loading validates everything a lying or truncated file can get wrong and throws
// "[safetensors] <path>: <problem>" (naming the tensor where there is one).
// Saving writes a temporary file beside the target and renames it, so a reader never
// sees a half-written file.
#pragma once
#include <map>
#include <string>

#include "sdnc/core/tensor.h"

namespace sdnc {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Supported on load: F32, F64, I64; I32, I16, U8 and BOOL are widened to I64; F16 and BF16
// are widened to F32.
SafetensorsFile load_safetensors(const std::string& path);

// Supported on save: F32, F64, I64.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace sdnc
