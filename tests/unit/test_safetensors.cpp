// safetensors: round trip, interoperability with PyTorch's writer and with the real PyPI
// safetensors library, and every way a file can lie.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "sdnc/sdnc.h"

namespace sdnc {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("sdnc_test_" + std::to_string(getpid()) + "_" + name)).string();
}

void write_raw(const std::string& path, const std::string& header, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  uint64_t n = header.size();
  f.write(reinterpret_cast<const char*>(&n), 8);
  f << header << data;
}

void expect_error(const std::string& path, const std::string& needle) {
  try {
    load_safetensors(path);
    FAIL() << "expected an error mentioning '" << needle << "'";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("[safetensors] " + path, 0), 0u) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

TEST(Safetensors, RoundTrip) {
  std::string path = temp_path("rt.safetensors");
  Tensor a = Tensor::from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = Tensor::from_vector(std::vector<double>{-1.5}, {1}, DType::F64);
  Tensor c = Tensor::from_indices({7, 8, 9}, {3});
  save_safetensors(path, {{"a", a}, {"b", b}, {"idx", c}}, {{"format", "pt"}});
  SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.metadata.at("format"), "pt");
  EXPECT_EQ(f.tensors.at("a").to_doubles(), a.to_doubles());
  EXPECT_EQ(f.tensors.at("a").shape(), (Shape{2, 3}));
  EXPECT_EQ(f.tensors.at("b").dtype(), DType::F64);
  EXPECT_EQ(f.tensors.at("idx").to_indices(), (std::vector<int64_t>{7, 8, 9}));
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(getpid())));
  fs::remove(path);
}

TEST(Safetensors, RejectsLyingFiles) {
  std::string path = temp_path("bad.safetensors");
  std::string data(24, '\0');
  {
    std::ofstream f(path, std::ios::binary);
    f << "abc";
  }
  expect_error(path, "too short");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})", data.substr(0, 10));
  expect_error(path, "outside");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,24]}})", data);
  expect_error(path, "'a'");
  write_raw(path, R"({"a":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", data);
  expect_error(path, "unsupported dtype");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data);
  expect_error(path, "invalid dimension");
  write_raw(path, R"({"a": not json)", data);
  expect_error(path, "not valid JSON");
  write_raw(path, R"({"a":{"dtype":"F32","shape":[2]}})", data);
  expect_error(path, "lacks");
  {  // header length larger than the file
    std::ofstream f(path, std::ios::binary);
    uint64_t n = 1000;
    f.write(reinterpret_cast<const char*>(&n), 8);
    f << "{}";
  }
  expect_error(path, "exceeds the file");
  expect_error(path + ".missing", "cannot open");
  fs::remove(path);
}

TEST(Safetensors, ReadsWhatPyTorchWrote) {
  // numpy/torch side writes with tests/golden/safetensors_np.py; F16 and I32 are widened.
  std::string path = temp_path("py.safetensors");
  std::string cmd = std::string("/usr/bin/python3 -c \"import sys; sys.path.insert(0, '") + SDNC_SOURCE_DIR +
                    "/tests/golden'); import numpy as np, safetensors_np as s; s.save('" + path +
                    "', {'h': np.array([1.5, -2, 0.25], np.float16), 'i': np.array([[1, -2]], np.int32),"
                    " 'f': np.arange(6, dtype=np.float32).reshape(2, 3)})\"";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  SafetensorsFile f = load_safetensors(path);
  EXPECT_EQ(f.tensors.at("h").to_doubles(), (std::vector<double>{1.5, -2, 0.25}));
  EXPECT_EQ(f.tensors.at("i").dtype(), DType::I64);
  EXPECT_EQ(f.tensors.at("i").to_indices(), (std::vector<int64_t>{1, -2}));
  EXPECT_EQ(f.tensors.at("f").shape(), (Shape{2, 3}));
  EXPECT_EQ(f.tensors.at("f").to_doubles()[5], 5.0);
  fs::remove(path);
}

}  // namespace
}  // namespace sdnc

namespace sdnc {
namespace {

// Files written by the real PyPI `safetensors` library (numpy and torch APIs; every dtype sdnc
// reads, metadata, zero-size and 0-dim tensors, a big-endian numpy array), read back and
// compared exactly with what the writer says each tensor holds (tests/golden/safetensors_real.py).
// Skipped with a message when the package cannot be installed (scripts/safetensors_venv.sh).
TEST(Safetensors, ReadsWhatTheSafetensorsLibraryWrote) {
  std::string py_file = temp_path("venv_python.txt");
  std::string venv = std::string("bash ") + SDNC_SOURCE_DIR + "/scripts/safetensors_venv.sh > " + py_file;
  if (std::system(venv.c_str()) != 0) GTEST_SKIP() << "the PyPI safetensors package is not available (see stderr)";
  std::string python;
  std::getline(std::ifstream(py_file), python);
  fs::remove(py_file);
  std::string dir = temp_path("real_safetensors");
  std::string cmd = python + " " + SDNC_SOURCE_DIR + "/tests/golden/safetensors_real.py " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  int files = 0;
  for (const char* name : {"numpy", "torch", "bigendian"}) {
    std::string base = dir + "/" + name;
    if (!fs::exists(base + ".json")) continue;  // the library may refuse big-endian input instead
    ++files;
    nlohmann::json want = nlohmann::json::parse(std::ifstream(base + ".json"));
    SafetensorsFile f = load_safetensors(base + ".safetensors");
    EXPECT_EQ(f.tensors.size(), want["tensors"].size()) << name;
    for (auto& [key, w] : want["tensors"].items()) {
      SCOPED_TRACE(std::string(name) + ": " + key);
      ASSERT_TRUE(f.tensors.count(key));
      const Tensor& t = f.tensors.at(key);
      std::string stored = w["dtype"];
      DType expect = stored == "F64" ? DType::F64
                     : (stored == "F32" || stored == "F16" || stored == "BF16") ? DType::F32
                                                                                 : DType::I64;
      EXPECT_EQ(t.dtype(), expect);
      EXPECT_EQ(t.shape(), w["shape"].get<Shape>());
      std::vector<double> got;
      if (t.dtype() == DType::I64)
        for (int64_t v : t.to_indices()) got.push_back(static_cast<double>(v));
      else
        got = t.to_doubles();
      EXPECT_EQ(got, w["values"].get<std::vector<double>>());
    }
    for (auto& [k, v] : want["metadata"].items()) EXPECT_EQ(f.metadata.at(k), v.get<std::string>()) << name << " " << k;
  }
  EXPECT_GE(files, 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sdnc
