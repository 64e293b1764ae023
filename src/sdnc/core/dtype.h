// dtype.h — element types. F32 is the engine's type; F64 is the exact path the
// finite-difference tests run on; I64 holds indices (tokens, class targets).
// BF16 has a name reserved here and no kernels yet.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace sdnc {

enum class DType : uint8_t { F32, F64, I64, BF16 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I64: return 8;
    case DType::BF16: return 2;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::I64: return "I64";
    case DType::BF16: return "BF16";
  }
  return "?";
}

inline bool is_floating(DType t) { return t == DType::F32 || t == DType::F64; }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::F32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::F64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::I64; };

}  // namespace sdnc
