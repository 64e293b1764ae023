// Hostile and damaged files: what the safetensors reader must refuse (each with one message
// naming the problem), the atomic writer under a full disk (the old file stays, no temporary
// is left), and the training checkpoint's CRC-32 (against zlib's published check value).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sdnc/io/atomic_file.h"
#include "sdnc/io/crc32.h"
#include "sdnc/io/safetensors.h"

namespace sdnc {
namespace {

namespace fs = std::filesystem;

std::string file_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>(n >> (8 * i));
  return out + header + data;
}

void expect_refused(const std::string& header, const std::string& data, const std::string& needle) {
  try {
    parse_safetensors(file_bytes(header, data), "x.safetensors");
    ADD_FAILURE() << "accepted: " << header;
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("[safetensors] x.safetensors: ", 0), 0u) << m;
    EXPECT_NE(m.find(needle), std::string::npos) << m << " (expected to mention " << needle << ")";
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(HostileSafetensors, RefusesEveryKindOfLie) {
  const std::string d16(16, '\0');
  expect_refused(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                 std::string(12, '\0'), "overlap");
  expect_refused(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", d16, "no tensor covers");
  expect_refused(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", d16, "cover 8 data bytes but the file holds 16");
  expect_refused(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                 d16, "key 'a' twice");
  expect_refused(R"({"a":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}})", d16, "twice");
  expect_refused("{\"\xff\xfe\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", d16, "not valid JSON");
  expect_refused(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,16]}})", d16,
                 "implausibly large");
  expect_refused(R"({"a":{"dtype":"F32","shape":[9223372036854775807,2],"data_offsets":[0,16]}})", d16, "implausibly large");
  expect_refused(R"({"a":{"dtype":"F64","shape":[4],"data_offsets":[0,16]}})", d16, "needs 32 bytes");
  expect_refused(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,18446744073709551615]}})", d16, "outside");
  expect_refused(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[16,0]}})", d16, "outside");
  expect_refused(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0.5,16]}})", d16, "two non-negative integers");
  expect_refused(R"({"a":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", d16, "9 dims");
  expect_refused(R"({"__metadata__":{"k":1}})", "", "not a string");
  // A header length over the limit is refused before anything is allocated.
  std::string huge(8, '\0');
  uint64_t n = kMaxSafetensorsHeader + 1;
  for (int i = 0; i < 8; ++i) huge[static_cast<size_t>(i)] = static_cast<char>(n >> (8 * i));
  EXPECT_THROW(parse_safetensors(huge + "{}", "x"), Error);
  // What is legal stays legal: tensors in any order of offsets, empty tensors.
  SafetensorsFile ok = parse_safetensors(
      file_bytes(R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[0,3],"data_offsets":[8,8]},"c":{"dtype":"U8","shape":[8],"data_offsets":[8,16]}})",
                 d16),
      "x");
  EXPECT_EQ(ok.tensors.size(), 3u);
}

TEST(AtomicFile, FullDiskLeavesTheOldFileAndNoTemporary) {
  fs::path dir = fs::temp_directory_path() / ("sdnc_enospc_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "f.bin").string();
  write_file_atomically(path, [](std::ostream& out) { out << "old content"; });
  const std::string big(1 << 20, 'x');
  for (int64_t budget : {int64_t{0}, int64_t{1000}, int64_t{(1 << 20) - 1}}) {
    inject_disk_full_after(budget);
    try {
      write_file_atomically(path, [&](std::ostream& out) { out << big; });
      ADD_FAILURE() << "a write past the injected full disk succeeded";
    } catch (const Error& e) {
      std::string m = e.what();
      EXPECT_EQ(m.rfind("[write] " + path + ": ", 0), 0u) << m;
      EXPECT_NE(m.find("ENOSPC"), std::string::npos) << m;
    }
    inject_disk_full_after(-1);
    std::ifstream in(path, std::ios::binary);
    std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(got, "old content") << "budget " << budget;
    int files = 0;
    for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
    EXPECT_EQ(files, 1) << "a temporary file was left behind (budget " << budget << ")";
  }
  // With room again the write goes through.
  write_file_atomically(path, [&](std::ostream& out) { out << big; });
  EXPECT_EQ(fs::file_size(path), big.size());
  fs::remove_all(dir);
}

TEST(Crc32, MatchesZlib) {
  // The standard check value of CRC-32/ISO-HDLC (zlib.crc32(b"123456789") == 0xCBF43926).
  EXPECT_EQ(crc32("123456789", 9), 0xCBF43926u);
  EXPECT_EQ(crc32("", 0), 0u);
  // Continuing a CRC equals one pass over the concatenation.
  EXPECT_EQ(crc32("6789", 4, crc32("12345", 5)), 0xCBF43926u);
}

}  // namespace
}  // namespace sdnc
