#include "wireguard/wg_test_files.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace nmks::wg {

std::string TestFilePath(const std::string& relative) {
  return std::string(NMKS_SOURCE_DIR) + "/tests/wg-quick/" + relative;
}

std::string ReadTestFile(const std::string& relative) {
  std::ifstream in(TestFilePath(relative), std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << TestFilePath(relative);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::vector<std::string> TestFiles(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(TestFilePath(dir))) {
    if (entry.is_regular_file()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

void CompareGolden(const std::string& relative, const std::string& text) {
  std::string path = TestFilePath(relative);
  if (const char* update = std::getenv("NMKS_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path, std::ios::binary) << text;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden file " << path << " (run with NMKS_UPDATE_GOLDEN=1)";
  std::ostringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(text, expected.str()) << "golden file " << path;
}

std::string ValidFile() {
  return std::string("[Interface]\nPrivateKey = ") + kTestPrivateKey +
         "\nAddress = 10.0.0.2/32\n\n[Peer]\nPublicKey = " + kTestPublicKey +
         "\nAllowedIPs = 0.0.0.0/0\nEndpoint = 192.0.2.1:51820\n";
}

std::string NumberedKey(size_t number) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unsigned char bytes[32] = {};
  for (size_t i = 0; i < sizeof number; ++i)
    bytes[i] = static_cast<unsigned char>(number >> (8 * i));
  bytes[31] = 0x5a;
  std::string out;
  for (size_t i = 0; i < 32; i += 3) {
    uint32_t chunk = static_cast<uint32_t>(bytes[i]) << 16;
    if (i + 1 < 32) chunk |= static_cast<uint32_t>(bytes[i + 1]) << 8;
    if (i + 2 < 32) chunk |= bytes[i + 2];
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < 32 ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < 32 ? kAlphabet[chunk & 63] : '=';
  }
  return out;
}

}  // namespace nmks::wg
