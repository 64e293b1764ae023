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
// Rejects (one "[safetensors] <path>: ..." error): a header over kMaxSafetensorsHeader
// bytes or past the end, invalid JSON or ill-formed UTF-8, a key given twice, unsupported
// dtypes, negative or non-integer dims, shapes whose element count passes 2^40, a byte size
// that disagrees with dtype × shape, data_offsets past the end, and tensors that overlap,
// leave holes or leave bytes after the last one.
SafetensorsFile load_safetensors(const std::string& path);
// The same, from a file's bytes already in memory; `path` only names it in errors.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& path);

// The largest header accepted (Python's safetensors uses the same limit).
inline constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// Supported on save: F32, F64, I64.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace sdnc
