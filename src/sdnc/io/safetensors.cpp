#include "sdnc/io/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string_view>
#include <vector>

#include "sdnc/io/atomic_file.h"
#include "sdnc/io/utf8.h"

namespace sdnc {

namespace {

using json = nlohmann::json;

struct StoredType {
  DType dtype;     // what the tensor becomes in sdnc
  size_t width;    // bytes per element in the file
};

bool stored_type(const std::string& name, StoredType& out) {
  if (name == "F32") out = {DType::F32, 4};
  else if (name == "F64") out = {DType::F64, 8};
  else if (name == "I64") out = {DType::I64, 8};
  else if (name == "I32") out = {DType::I64, 4};
  else if (name == "I16") out = {DType::I64, 2};
  else if (name == "U8") out = {DType::I64, 1};
  else if (name == "BOOL") out = {DType::I64, 1};
  else if (name == "F16") out = {DType::F32, 2};
  else if (name == "BF16") out = {DType::F32, 2};
  else return false;
  return true;
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? NAN : INFINITY;
  else v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

// Converts `count` stored elements of type `name` at src into t's buffer.
void decode(const std::string& name, const char* src, int64_t count, Tensor& t) {
  if (name == "F32" || name == "F64" || name == "I64") {
    std::memcpy(t.raw_data(), src, t.nbytes());
    return;
  }
  if (t.dtype() == DType::F32) {
    float* dst = t.data<float>();
    for (int64_t i = 0; i < count; ++i) {
      uint16_t bits;
      std::memcpy(&bits, src + 2 * i, 2);
      if (name == "F16") {
        dst[i] = half_to_float(bits);
      } else {  // BF16: the high half of an fp32
        uint32_t f = static_cast<uint32_t>(bits) << 16;
        std::memcpy(&dst[i], &f, 4);
      }
    }
    return;
  }
  int64_t* dst = t.data<int64_t>();
  for (int64_t i = 0; i < count; ++i) {
    if (name == "I32") { int32_t v; std::memcpy(&v, src + 4 * i, 4); dst[i] = v; }
    else if (name == "I16") { int16_t v; std::memcpy(&v, src + 2 * i, 2); dst[i] = v; }
    else { dst[i] = static_cast<uint8_t>(src[i]); }
  }
}

}  // namespace

SafetensorsFile load_safetensors(const std::string& path) {
  const char* op = "safetensors";
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(op, "{}: is a directory, not a file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(op, "{}: cannot open file", path);
  in.seekg(0, std::ios::end);
  const std::streamoff end_pos = in.tellg();
  if (!in || end_pos < 0) fail(op, "{}: cannot determine the file size", path);
  std::string bytes(static_cast<size_t>(end_pos), '\0');
  in.seekg(0);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    fail(op, "{}: could not read its {} bytes", path, bytes.size());
  return parse_safetensors(bytes, path);
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& path) {
  const char* op = "safetensors";
  const uint64_t file_size = bytes.size();
  if (file_size < 8) fail(op, "{}: file of {} bytes is too short to hold a header", path, file_size);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  if (header_len > kMaxSafetensorsHeader)
    fail(op, "{}: header length {} exceeds the limit of {} bytes (not safetensors, or a hostile file)", path,
         header_len, kMaxSafetensorsHeader);
  if (header_len > file_size - 8)
    fail(op, "{}: header length {} exceeds the file ({} bytes): truncated or not safetensors", path,
         header_len, file_size);
  const std::string_view header(bytes.data() + 8, header_len);
  // Duplicate keys (which nlohmann::json would silently resolve to the last) are rejected:
  // one set of keys per open object.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto on_event = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) open_objects.emplace_back();
    else if (event == json::parse_event_t::object_end && !open_objects.empty()) open_objects.pop_back();
    else if (event == json::parse_event_t::key && !open_objects.empty() &&
             !open_objects.back().insert(parsed.get<std::string>()).second && duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json j;
  try {
    j = json::parse(header.begin(), header.end(), on_event);  // also rejects ill-formed UTF-8
  } catch (const json::exception& e) {
    fail(op, "{}: header is not valid JSON ({})", path, e.what());
  }
  if (!duplicate.empty()) fail(op, "{}: header has the key '{}' twice", path, printable(duplicate));
  if (!j.is_object()) fail(op, "{}: header is not a JSON object", path);

  const uint64_t data_size = file_size - 8 - header_len;
  const char* data = bytes.data() + 8 + header_len;

  struct Extent {
    uint64_t begin, end;
    const std::string* name;
  };
  std::vector<Extent> extents;
  SafetensorsFile result;
  for (auto& [name, entry] : j.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(op, "{}: __metadata__ is not an object", path);
      for (auto& [k, v] : entry.items()) {
        if (!v.is_string()) fail(op, "{}: __metadata__ value of '{}' is not a string", path, printable(k));
        result.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string shown = printable(name);  // as messages quote it (one line, utf8.h)
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      fail(op, "{}: tensor '{}' lacks dtype, shape or data_offsets", path, shown);
    if (!entry["dtype"].is_string()) fail(op, "{}: tensor '{}' dtype is not a string", path, shown);
    std::string dt = entry["dtype"].get<std::string>();
    StoredType st;
    if (!stored_type(dt, st)) fail(op, "{}: tensor '{}' has unsupported dtype {}", path, shown, printable(dt));
    Shape shape;
    if (!entry["shape"].is_array()) fail(op, "{}: tensor '{}' shape is not a list", path, shown);
    if (entry["shape"].size() > static_cast<size_t>(kMaxDims)) fail(op, "{}: tensor '{}' has {} dims", path, shown, entry["shape"].size());
    for (auto& d : entry["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        fail(op, "{}: tensor '{}' has an invalid dimension {}", path, shown, d.dump());
      shape.push_back(d.get<int64_t>());
    }
    auto& off = entry["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      fail(op, "{}: tensor '{}' data_offsets must be two non-negative integers", path, shown);
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size)
      fail(op, "{}: tensor '{}' data_offsets [{}, {}] outside the {} data bytes (truncated file?)", path,
           shown, begin, end, data_size);
    uint64_t count = 1;
    for (int64_t d : shape) {
      if (d != 0 && count > (uint64_t{1} << 40) / static_cast<uint64_t>(d))
        fail(op, "{}: tensor '{}' shape {} is implausibly large", path, shown, shape_str(shape));
      count *= static_cast<uint64_t>(d);
    }
    if (count * st.width != end - begin)
      fail(op, "{}: tensor '{}' of dtype {} and shape {} needs {} bytes, data_offsets give {}", path, shown,
           dt, shape_str(shape), count * st.width, end - begin);
    extents.push_back({begin, end, &name});
  }
  // The tensors tile the data section exactly: no overlaps, no holes, nothing after the last
  // (what Python's safetensors requires too).
  std::sort(extents.begin(), extents.end(),
            [](const Extent& a, const Extent& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t covered = 0;
  for (size_t i = 0; i < extents.size(); ++i) {
    const Extent& x = extents[i];
    if (x.begin < covered)
      fail(op, "{}: tensor '{}' data_offsets [{}, {}] overlap tensor '{}' (which ends at {})", path, printable(*x.name),
           x.begin, x.end, printable(*extents[i - 1].name), covered);
    if (x.begin > covered)
      fail(op, "{}: tensor '{}' starts at data byte {}, leaving bytes [{}, {}) that no tensor covers", path,
           printable(*x.name), x.begin, covered, x.begin);
    covered = x.end;
  }
  if (covered != data_size)
    fail(op, "{}: the tensors cover {} data bytes but the file holds {} (truncated, padded or lying file)", path,
         covered, data_size);
  for (auto& [name, entry] : j.items()) {
    if (name == "__metadata__") continue;
    StoredType st;
    std::string dt = entry["dtype"].get<std::string>();
    stored_type(dt, st);
    Shape shape;
    for (auto& d : entry["shape"]) shape.push_back(d.get<int64_t>());
    uint64_t begin = entry["data_offsets"][0].get<uint64_t>();
    Tensor t = Tensor::empty(shape, st.dtype);
    decode(dt, data + begin, t.numel(), t);
    result.tensors.emplace(name, std::move(t));
  }
  return result;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const char* op = "safetensors";
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (auto& [name, t] : tensors) {
    if (!t.defined()) fail(op, "{}: tensor '{}' is undefined", path, name);
    check_cpu(op, t);
    if (t.dtype() != DType::F32 && t.dtype() != DType::F64 && t.dtype() != DType::I64)
      fail(op, "{}: tensor '{}' has unsupported dtype {}", path, name, dtype_name(t.dtype()));
    header[name] = {{"dtype", dtype_name(t.dtype())}, {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // align the data section to 8 bytes
  write_file_atomically(path, [&](std::ostream& out) {
    uint64_t n = h.size();
    unsigned char len_bytes[8];
    for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len_bytes), 8);
    out.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (auto& [name, t] : tensors)
      out.write(static_cast<const char*>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
  });
}

}  // namespace sdnc
