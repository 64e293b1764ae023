// gguf.h — reading GGUF files (ggml's single-file model format, versions 2 and 3).
//
// Layout (all little-endian):
//   magic "GGUF", u32 version, u64 tensor_count, u64 kv_count,
//   kv_count × { string key, u32 value_type, value }          (string = u64 length + bytes)
//   tensor_count × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//   padding to `general.alignment` (default 32), then the tensor data; each offset is relative
//   to the data start and a multiple of the alignment.
// ne[0] is the fastest-varying dimension, so a tensor's sdnc shape is ne reversed: a ggml
// weight with ne = [in, out] is the row-major [out, in] matrix PyTorch would hold.
//
// Opening validates everything a truncated or lying file can get wrong (counts and lengths that
// run past the end, unknown value or tensor types, shape products that overflow, misaligned,
// out-of-range or overlapping tensor data, duplicate names) and throws
// "[gguf] <path>: <problem> (at offset N | tensor 'name')". No read ever leaves the file.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sdnc/core/tensor.h"

namespace sdnc::gguf {

enum class ValueType : uint32_t {
  UINT8 = 0, INT8 = 1, UINT16 = 2, INT16 = 3, UINT32 = 4, INT32 = 5, FLOAT32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, UINT64 = 10, INT64 = 11, FLOAT64 = 12,
};
const char* value_type_name(ValueType t);

// ggml tensor types this reader dequantises (the numbering is ggml's; others are refused).
enum class TensorType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q8_0 = 8, BF16 = 30,
};
const char* tensor_type_name(TensorType t);

// One metadata value. Integers keep their sign in `i` (signed types) or `u` (unsigned types and
// BOOL); FLOAT32/FLOAT64 are in `f`; STRING in `s`; ARRAY has `array_type` and `array`.
struct Value {
  ValueType type = ValueType::UINT8;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0.0;
  std::string s;
  ValueType array_type = ValueType::UINT8;
  std::vector<Value> array;

  bool is_integer() const;
  int64_t as_int() const;    // any integer type (throws for > INT64_MAX or non-integers)
  double as_double() const;  // any integer or float type
};

struct TensorInfo {
  std::string name;
  std::vector<uint64_t> ne;  // ggml order: ne[0] fastest
  TensorType type = TensorType::F32;
  uint64_t offset = 0;       // relative to the data start
  uint64_t nbytes = 0;       // bytes of stored data
  int64_t numel = 0;
  Shape shape() const;       // ne reversed (row-major)
};

class File {
 public:
  // Maps the file read-only and parses and validates the header, metadata and tensor infos.
  static File open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }  // absolute file offset of the data
  uint64_t size() const;                                  // file size in bytes

  const std::map<std::string, Value>& metadata() const { return metadata_; }
  const std::vector<std::string>& metadata_order() const { return metadata_order_; }
  const Value* find(const std::string& key) const;  // nullptr if absent
  // Typed accessors; throw "[gguf] <path>: metadata 'key' ..." when absent or of another type.
  const Value& get(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;

  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // in file order
  const TensorInfo* find_tensor(const std::string& name) const;       // nullptr if absent
  const TensorInfo& tensor(const std::string& name) const;            // throws if absent

  // The stored bytes of a tensor (nbytes of them, inside the mapping).
  const uint8_t* raw(const TensorInfo& info) const;
  // The tensor dequantised to F32, shape info.shape().
  Tensor dequantize(const std::string& name) const;
  Tensor dequantize(const TensorInfo& info) const;

 private:
  struct Mapping;
  std::shared_ptr<Mapping> map_;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::map<std::string, Value> metadata_;
  std::vector<std::string> metadata_order_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

// Block geometry of a tensor type: elements per block and bytes per block.
struct BlockSize {
  int64_t elements;
  int64_t bytes;
};
BlockSize block_size(TensorType t);

// Dequantises `n` elements (a multiple of the type's block size) stored at `src` into `dst`.
// Q4_0: per 32 elements {f16 d; u8 qs[16]}, x[j] = ((qs[j] & 15) - 8)·d, x[j+16] = ((qs[j] >> 4) - 8)·d.
// Q4_1: {f16 d; f16 m; u8 qs[16]}, x[j] = (qs[j] & 15)·d + m, x[j+16] = (qs[j] >> 4)·d + m.
// Q8_0: {f16 d; i8 qs[32]}, x[j] = qs[j]·d.
void dequantize_row(TensorType type, const uint8_t* src, float* dst, int64_t n);

float fp16_to_float(uint16_t h);
float bf16_to_float(uint16_t h);

}  // namespace sdnc::gguf
