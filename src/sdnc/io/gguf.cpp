#include "sdnc/io/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "sdnc/io/utf8.h"

namespace sdnc::gguf {

namespace {

constexpr const char* kOp = "gguf";
constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr uint32_t kMaxDims = 4;         // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 4;        // nested arrays deeper than this are refused

bool known_value_type(uint32_t t) { return t <= 12; }

bool known_tensor_type(uint32_t t) {
  switch (static_cast<TensorType>(t)) {
    case TensorType::F32: case TensorType::F16: case TensorType::Q4_0: case TensorType::Q4_1:
    case TensorType::Q8_0: case TensorType::BF16: return true;
  }
  return false;
}

// Names of ggml types this reader does not dequantise, for the error message.
const char* ggml_type_name(uint32_t t) {
  static const char* names[] = {"F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)",
                                "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
                                "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL",
                                "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64",
                                "IQ1_M", "BF16"};
  return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

// Size in bytes of one fixed-width scalar value type; 0 for STRING / ARRAY.
uint64_t scalar_width(ValueType t) {
  switch (t) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::BOOL: return 1;
    case ValueType::UINT16: case ValueType::INT16: return 2;
    case ValueType::UINT32: case ValueType::INT32: case ValueType::FLOAT32: return 4;
    case ValueType::UINT64: case ValueType::INT64: case ValueType::FLOAT64: return 8;
    default: return 0;
  }
}

// A bounds-checked little-endian reader over the mapped bytes.
struct Cursor {
  const uint8_t* base;
  uint64_t size;
  uint64_t pos = 0;
  const std::string& path;

  [[noreturn]] void truncated(const char* what, uint64_t need) const {
    fail(kOp, "{}: truncated: {} needs {} bytes at offset {} but the file has {}", path, what,
         need, pos, size);
  }
  void need(uint64_t n, const char* what) const {
    if (n > size - pos) truncated(what, n);
  }
  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, base + pos, sizeof(T));
    pos += sizeof(T);
    return v;
  }
  std::string string(const char* what) {
    uint64_t start = pos;
    uint64_t n = read<uint64_t>(what);
    if (n > size - pos)
      fail(kOp, "{}: {} at offset {} has length {} but only {} bytes remain", path, what, start,
           n, size - pos);
    std::string s(reinterpret_cast<const char*>(base + pos), n);
    pos += n;
    return s;
  }
};

Value read_value(Cursor& c, ValueType type, const std::string& key, int depth) {
  Value v;
  v.type = type;
  switch (type) {
    case ValueType::UINT8: v.u = c.read<uint8_t>("a u8 value"); break;
    case ValueType::INT8: v.i = c.read<int8_t>("an i8 value"); break;
    case ValueType::UINT16: v.u = c.read<uint16_t>("a u16 value"); break;
    case ValueType::INT16: v.i = c.read<int16_t>("an i16 value"); break;
    case ValueType::UINT32: v.u = c.read<uint32_t>("a u32 value"); break;
    case ValueType::INT32: v.i = c.read<int32_t>("an i32 value"); break;
    case ValueType::UINT64: v.u = c.read<uint64_t>("a u64 value"); break;
    case ValueType::INT64: v.i = c.read<int64_t>("an i64 value"); break;
    case ValueType::FLOAT32: v.f = c.read<float>("an f32 value"); break;
    case ValueType::FLOAT64: v.f = c.read<double>("an f64 value"); break;
    case ValueType::BOOL: {
      uint64_t at = c.pos;
      uint8_t b = c.read<uint8_t>("a bool value");
      if (b > 1) fail(kOp, "{}: metadata '{}': bool byte {} at offset {} is not 0 or 1", c.path, key, b, at);
      v.u = b;
      break;
    }
    case ValueType::STRING: v.s = c.string("a string value"); break;
    case ValueType::ARRAY: {
      uint64_t at = c.pos;
      uint32_t et = c.read<uint32_t>("an array's element type");
      if (!known_value_type(et))
        fail(kOp, "{}: metadata '{}': unknown array element type {} at offset {}", c.path, key, et, at);
      if (depth >= kMaxArrayDepth)
        fail(kOp, "{}: metadata '{}': arrays nested deeper than {} at offset {}", c.path, key,
             kMaxArrayDepth, at);
      uint64_t n = c.read<uint64_t>("an array's length");
      // Every element takes at least its scalar width (8 bytes for a string's length, 12 for a
      // nested array's header): a count that cannot fit in the rest of the file is refused
      // before anything is allocated.
      uint64_t min_width = scalar_width(static_cast<ValueType>(et));
      if (min_width == 0) min_width = static_cast<ValueType>(et) == ValueType::STRING ? 8 : 12;
      if (n > (c.size - c.pos) / min_width)
        fail(kOp, "{}: metadata '{}': array of {} {} at offset {} cannot fit in the {} bytes left",
             c.path, key, n, value_type_name(static_cast<ValueType>(et)), at, c.size - c.pos);
      v.array_type = static_cast<ValueType>(et);
      v.array.reserve(n);
      for (uint64_t k = 0; k < n; ++k) v.array.push_back(read_value(c, v.array_type, key, depth + 1));
      break;
    }
  }
  return v;
}

}  // namespace

const char* value_type_name(ValueType t) {
  static const char* names[] = {"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32",
                                "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"};
  auto i = static_cast<uint32_t>(t);
  return i < 13 ? names[i] : "unknown";
}

const char* tensor_type_name(TensorType t) { return ggml_type_name(static_cast<uint32_t>(t)); }

bool Value::is_integer() const {
  switch (type) {
    case ValueType::UINT8: case ValueType::INT8: case ValueType::UINT16: case ValueType::INT16:
    case ValueType::UINT32: case ValueType::INT32: case ValueType::UINT64: case ValueType::INT64:
    case ValueType::BOOL: return true;
    default: return false;
  }
}

int64_t Value::as_int() const {
  SDNC_CHECK(is_integer(), kOp, "value of type {} is not an integer", value_type_name(type));
  switch (type) {
    case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64:
      return i;
    default:
      SDNC_CHECK(u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()), kOp,
                 "value {} does not fit in an int64", u);
      return static_cast<int64_t>(u);
  }
}

double Value::as_double() const {
  if (type == ValueType::FLOAT32 || type == ValueType::FLOAT64) return f;
  return static_cast<double>(as_int());
}

Shape TensorInfo::shape() const {
  Shape s(ne.rbegin(), ne.rend());
  return s;
}

BlockSize block_size(TensorType t) {
  switch (t) {
    case TensorType::F32: return {1, 4};
    case TensorType::F16: return {1, 2};
    case TensorType::BF16: return {1, 2};
    case TensorType::Q4_0: return {32, 2 + 16};
    case TensorType::Q4_1: return {32, 2 + 2 + 16};
    case TensorType::Q8_0: return {32, 2 + 32};
  }
  fail(kOp, "unknown tensor type {}", static_cast<uint32_t>(t));
}

float fp16_to_float(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? NAN : INFINITY;
  else v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

float bf16_to_float(uint16_t h) {
  uint32_t bits = static_cast<uint32_t>(h) << 16;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

// Q4_1's q·d is exact in fp32 (a 4-bit integer times an 11-bit fp16 mantissa), so a compiler
// that fuses q·d + m into an FMA gives the same bits as ggml's and numpy's product-then-sum
// (checked: an std::fma version passes check_gguf.py unchanged).
void dequantize_row(TensorType type, const uint8_t* src, float* dst, int64_t n) {
  BlockSize bs = block_size(type);
  SDNC_CHECK(n % bs.elements == 0, kOp, "{} row of {} elements is not a multiple of {}",
             tensor_type_name(type), n, bs.elements);
  auto f16 = [](const uint8_t* p) { uint16_t h; std::memcpy(&h, p, 2); return fp16_to_float(h); };
  switch (type) {
    case TensorType::F32: std::memcpy(dst, src, static_cast<size_t>(n) * 4); return;
    case TensorType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = f16(src + 2 * i);
      return;
    case TensorType::BF16:
      for (int64_t i = 0; i < n; ++i) { uint16_t h; std::memcpy(&h, src + 2 * i, 2); dst[i] = bf16_to_float(h); }
      return;
    case TensorType::Q4_0:
      for (int64_t b = 0; b < n / 32; ++b, src += bs.bytes, dst += 32) {
        float d = f16(src);
        const uint8_t* qs = src + 2;
        for (int j = 0; j < 16; ++j) {
          dst[j] = static_cast<float>((qs[j] & 0x0f) - 8) * d;
          dst[j + 16] = static_cast<float>((qs[j] >> 4) - 8) * d;
        }
      }
      return;
    case TensorType::Q4_1:
      for (int64_t b = 0; b < n / 32; ++b, src += bs.bytes, dst += 32) {
        float d = f16(src), m = f16(src + 2);
        const uint8_t* qs = src + 4;
        for (int j = 0; j < 16; ++j) {
          dst[j] = static_cast<float>(qs[j] & 0x0f) * d + m;
          dst[j + 16] = static_cast<float>(qs[j] >> 4) * d + m;
        }
      }
      return;
    case TensorType::Q8_0:
      for (int64_t b = 0; b < n / 32; ++b, src += bs.bytes, dst += 32) {
        float d = f16(src);
        const int8_t* qs = reinterpret_cast<const int8_t*>(src + 2);
        for (int j = 0; j < 32; ++j) dst[j] = static_cast<float>(qs[j]) * d;
      }
      return;
  }
  fail(kOp, "unknown tensor type {}", static_cast<uint32_t>(type));
}

struct File::Mapping {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  ~Mapping() {
    if (data) munmap(const_cast<uint8_t*>(data), size);
  }
};

uint64_t File::size() const { return map_->size; }

File File::open(const std::string& path) {
  File f;
  f.path_ = path;
  f.map_ = std::make_shared<Mapping>();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(kOp, "{}: cannot open file: {}", path, std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) { ::close(fd); fail(kOp, "{}: cannot stat file", path); }
  if (S_ISDIR(st.st_mode)) { ::close(fd); fail(kOp, "{}: is a directory, not a file", path); }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 24) {
    ::close(fd);
    fail(kOp, "{}: {} bytes is too short for a GGUF header (24 bytes)", path, size);
  }
  void* p = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) fail(kOp, "{}: cannot map file: {}", path, std::strerror(errno));
  f.map_->data = static_cast<const uint8_t*>(p);
  f.map_->size = size;

  Cursor c{f.map_->data, size, 0, f.path_};
  // --- header
  uint32_t magic = c.read<uint32_t>("the magic");
  if (magic != kMagic) fail(kOp, "{}: not a GGUF file (magic 0x{:08x}, expected \"GGUF\")", path, magic);
  f.version_ = c.read<uint32_t>("the version");
  if (f.version_ == 1) fail(kOp, "{}: GGUF version 1 (32-bit counts) is not supported", path);
  if (f.version_ != 2 && f.version_ != 3) fail(kOp, "{}: unknown GGUF version {}", path, f.version_);
  uint64_t n_tensors = c.read<uint64_t>("the tensor count");
  uint64_t n_kv = c.read<uint64_t>("the metadata count");
  // A key-value pair takes at least 8 + 4 + 1 bytes and a tensor info at least 8 + 4 + 4 + 8.
  if (n_kv > (size - c.pos) / 13)
    fail(kOp, "{}: metadata count {} cannot fit in a {}-byte file", path, n_kv, size);
  if (n_tensors > (size - c.pos) / 24)
    fail(kOp, "{}: tensor count {} cannot fit in a {}-byte file", path, n_tensors, size);

  // --- metadata
  for (uint64_t k = 0; k < n_kv; ++k) {
    uint64_t at = c.pos;
    std::string key = c.string("a metadata key");
    const std::string shown = printable(key);  // as messages quote it (one line, utf8.h)
    uint64_t tat = c.pos;
    uint32_t type = c.read<uint32_t>("a metadata value type");
    if (!known_value_type(type))
      fail(kOp, "{}: metadata '{}': unknown value type {} at offset {}", path, shown, type, tat);
    Value v = read_value(c, static_cast<ValueType>(type), shown, 0);
    if (f.metadata_.count(key)) fail(kOp, "{}: metadata key '{}' repeated at offset {}", path, shown, at);
    f.metadata_.emplace(key, std::move(v));
    f.metadata_order_.push_back(key);
  }
  if (const Value* a = f.find("general.alignment")) {
    if (a->type != ValueType::UINT32)
      fail(kOp, "{}: metadata 'general.alignment' is {}, expected UINT32", path, value_type_name(a->type));
    if (a->u == 0 || (a->u & (a->u - 1)) != 0)
      fail(kOp, "{}: general.alignment {} is not a power of two", path, a->u);
    f.alignment_ = a->u;
  }

  // --- tensor infos
  f.tensors_.reserve(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    TensorInfo t;
    uint64_t at = c.pos;
    t.name = c.string("a tensor name");
    const std::string name = printable(t.name);
    if (f.tensor_index_.count(t.name)) fail(kOp, "{}: tensor '{}' repeated at offset {}", path, name, at);
    uint32_t n_dims = c.read<uint32_t>("a tensor's dimension count");
    if (n_dims == 0 || n_dims > kMaxDims)
      fail(kOp, "{}: tensor '{}': {} dimensions (ggml allows 1 to {})", path, name, n_dims, kMaxDims);
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t ne = c.read<uint64_t>("a tensor dimension");
      if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / numel)
        fail(kOp, "{}: tensor '{}': dimension {} = {} (zero, or the element count overflows)", path,
             name, d, ne);
      numel *= ne;
      t.ne.push_back(ne);
    }
    uint64_t tat = c.pos;
    uint32_t type = c.read<uint32_t>("a tensor type");
    if (!known_tensor_type(type))
      fail(kOp, "{}: tensor '{}': type {} ({}) at offset {} is not supported (F32, F16, BF16, Q4_0, "
           "Q4_1, Q8_0)", path, name, type, ggml_type_name(type), tat);
    t.type = static_cast<TensorType>(type);
    t.offset = c.read<uint64_t>("a tensor offset");
    BlockSize bs = block_size(t.type);
    if (t.ne[0] % static_cast<uint64_t>(bs.elements) != 0)
      fail(kOp, "{}: tensor '{}': row length {} is not a multiple of {}'s block of {}", path, name,
           t.ne[0], tensor_type_name(t.type), bs.elements);
    uint64_t blocks = numel / static_cast<uint64_t>(bs.elements);
    if (blocks > size / static_cast<uint64_t>(bs.bytes))
      fail(kOp, "{}: tensor '{}': {} elements of {} cannot fit in a {}-byte file", path, name,
           numel, tensor_type_name(t.type), size);
    t.nbytes = blocks * static_cast<uint64_t>(bs.bytes);
    t.numel = static_cast<int64_t>(numel);
    f.tensor_index_.emplace(t.name, f.tensors_.size());
    f.tensors_.push_back(std::move(t));
  }

  // --- data: starts at the next multiple of the alignment
  uint64_t pad = (f.alignment_ - c.pos % f.alignment_) % f.alignment_;
  f.data_offset_ = c.pos + pad;
  if (f.data_offset_ > size && !f.tensors_.empty())
    fail(kOp, "{}: truncated: the tensor data would start at offset {} past the end ({})", path,
         f.data_offset_, size);
  uint64_t avail = size >= f.data_offset_ ? size - f.data_offset_ : 0;
  for (const TensorInfo& t : f.tensors_) {
    if (t.offset % f.alignment_ != 0)
      fail(kOp, "{}: tensor '{}': data offset {} is not a multiple of the alignment {}", path, printable(t.name),
           t.offset, f.alignment_);
    if (t.offset > avail || t.nbytes > avail - t.offset)
      fail(kOp, "{}: tensor '{}': data [{}, {}) runs past the end of the file (data section {} bytes "
           "from offset {})", path, printable(t.name), t.offset, t.offset + t.nbytes, avail, f.data_offset_);
  }
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : f.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const TensorInfo& a = *by_offset[k - 1];
    const TensorInfo& b = *by_offset[k];
    if (b.offset < a.offset + a.nbytes)
      fail(kOp, "{}: tensors '{}' [{}, {}) and '{}' [{}, {}) overlap", path, printable(a.name), a.offset,
           a.offset + a.nbytes, printable(b.name), b.offset, b.offset + b.nbytes);
  }
  return f;
}

const Value* File::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const Value& File::get(const std::string& key) const {
  const Value* v = find(key);
  if (!v) fail(kOp, "{}: metadata '{}' is missing", path_, key);
  return *v;
}

int64_t File::get_int(const std::string& key) const {
  const Value& v = get(key);
  if (!v.is_integer())
    fail(kOp, "{}: metadata '{}' is {}, expected an integer", path_, key, value_type_name(v.type));
  if (v.type != ValueType::INT8 && v.type != ValueType::INT16 && v.type != ValueType::INT32 &&
      v.type != ValueType::INT64 && v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    fail(kOp, "{}: metadata '{}' = {} does not fit in an int64", path_, key, v.u);
  return v.as_int();
}

double File::get_float(const std::string& key) const {
  const Value& v = get(key);
  if (v.type != ValueType::FLOAT32 && v.type != ValueType::FLOAT64 && !v.is_integer())
    fail(kOp, "{}: metadata '{}' is {}, expected a number", path_, key, value_type_name(v.type));
  return v.type == ValueType::FLOAT32 || v.type == ValueType::FLOAT64 ? v.f : static_cast<double>(get_int(key));
}

const std::string& File::get_string(const std::string& key) const {
  const Value& v = get(key);
  if (v.type != ValueType::STRING)
    fail(kOp, "{}: metadata '{}' is {}, expected STRING", path_, key, value_type_name(v.type));
  return v.s;
}

const TensorInfo* File::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(const std::string& name) const {
  const TensorInfo* t = find_tensor(name);
  if (!t) fail(kOp, "{}: no tensor '{}'", path_, name);
  return *t;
}

const uint8_t* File::raw(const TensorInfo& info) const {
  return map_->data + data_offset_ + info.offset;
}

Tensor File::dequantize(const std::string& name) const { return dequantize(tensor(name)); }

Tensor File::dequantize(const TensorInfo& info) const {
  Tensor out = Tensor::empty(info.shape(), DType::F32);
  dequantize_row(info.type, raw(info), out.data<float>(), info.numel);
  return out;
}

}  // namespace sdnc::gguf
