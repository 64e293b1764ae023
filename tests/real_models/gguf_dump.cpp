// gguf_dump — the C++ side of tests/golden/check_gguf.py: opens a GGUF file with sdnc's reader
// and writes what it read, so the script can compare it with the PyPI `gguf` package's reader.
//   gguf_dump FILE --json OUT.json [--tensors OUT.safetensors] [--names a,b,...|all]
// OUT.json: version, alignment, data_offset, metadata in file order (strings as hex bytes, so
// any byte sequence compares exactly), and per tensor: name, ne, type, offset, nbytes and the
// float64 sum and sum of squares of its dequantised values. --tensors writes the dequantised
// tensors named by --names (default all) as F32 safetensors.
// On bad input it prints one line "sdnc: [gguf] ..." and exits 1.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sdnc/core/error.h"
#include "sdnc/io/gguf.h"
#include "sdnc/io/safetensors.h"

using json = nlohmann::json;
using namespace sdnc;

namespace {

std::string hex(const std::string& s) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * s.size());
  for (unsigned char ch : s) { out += digits[ch >> 4]; out += digits[ch & 15]; }
  return out;
}

json value_json(const gguf::Value& v) {
  using gguf::ValueType;
  switch (v.type) {
    case ValueType::FLOAT32: case ValueType::FLOAT64: return v.f;
    case ValueType::STRING: return hex(v.s);
    case ValueType::ARRAY: {
      json a = json::array();
      for (const gguf::Value& e : v.array) a.push_back(value_json(e));
      return a;
    }
    case ValueType::INT8: case ValueType::INT16: case ValueType::INT32: case ValueType::INT64:
      return v.i;
    default: return v.u;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string path, json_out, st_out, names = "all";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json" && i + 1 < argc) json_out = argv[++i];
    else if (a == "--tensors" && i + 1 < argc) st_out = argv[++i];
    else if (a == "--names" && i + 1 < argc) names = argv[++i];
    else if (path.empty()) path = a;
    else { std::fprintf(stderr, "sdnc: [gguf_dump] unexpected argument '%s'\n", a.c_str()); return 2; }
  }
  if (path.empty() || json_out.empty()) {
    std::fprintf(stderr, "usage: gguf_dump FILE --json OUT.json [--tensors OUT.safetensors] [--names a,b|all]\n");
    return 2;
  }
  try {
    gguf::File f = gguf::File::open(path);
    json j;
    j["version"] = f.version();
    j["alignment"] = f.alignment();
    j["data_offset"] = f.data_offset();
    json meta = json::array();
    for (const std::string& key : f.metadata_order()) {
      const gguf::Value& v = f.metadata().at(key);
      json e = {{"key", key}, {"type", gguf::value_type_name(v.type)}, {"value", value_json(v)}};
      if (v.type == gguf::ValueType::ARRAY) e["array_type"] = gguf::value_type_name(v.array_type);
      meta.push_back(e);
    }
    j["metadata"] = meta;
    std::map<std::string, Tensor> selected;
    std::vector<std::string> wanted;
    if (names != "all") {
      std::stringstream ss(names);
      for (std::string n; std::getline(ss, n, ',');) wanted.push_back(n);
    }
    json tensors = json::array();
    for (const gguf::TensorInfo& t : f.tensors()) {
      Tensor x = f.dequantize(t);
      const float* p = x.data<float>();
      double sum = 0, sumsq = 0;
      for (int64_t k = 0; k < t.numel; ++k) { sum += p[k]; sumsq += static_cast<double>(p[k]) * p[k]; }
      tensors.push_back({{"name", t.name}, {"ne", t.ne}, {"type", gguf::tensor_type_name(t.type)},
                         {"offset", t.offset}, {"nbytes", t.nbytes}, {"sum", sum}, {"sumsq", sumsq}});
      if (!st_out.empty() &&
          (names == "all" || std::find(wanted.begin(), wanted.end(), t.name) != wanted.end()))
        selected.emplace(t.name, x);
    }
    for (const std::string& n : wanted) f.tensor(n);  // a wanted name that is absent is an error
    j["tensors"] = tensors;
    // Names are written as read; bytes that are not UTF-8 become U+FFFD in the JSON.
    std::ofstream(json_out) << j.dump(-1, ' ', false, json::error_handler_t::replace);
    if (!st_out.empty()) save_safetensors(st_out, selected);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sdnc: %s\n", e.what());
    return 1;
  }
  return 0;
}
