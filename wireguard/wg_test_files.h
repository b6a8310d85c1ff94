// Test helpers: the wg-quick files under tests/wg-quick, golden comparison,
// and keys made for tests.
#pragma once

#include <string>
#include <vector>

namespace nmks::wg {

inline constexpr char kTestPrivateKey[] = "eKiSRe7hNIMJVPigCKkP/0pu4yRPvBMt4c8hRSaK+VI=";
inline constexpr char kTestPublicKey[] = "bjCJxsMlUuB9aST6n4jFQpWamfUBXksU/YajefpLeiM=";

// The full path of tests/wg-quick/RELATIVE in the source tree.
std::string TestFilePath(const std::string& relative);
// Its bytes, exactly.
std::string ReadTestFile(const std::string& relative);
// The file names in tests/wg-quick/DIR, sorted.
std::vector<std::string> TestFiles(const std::string& dir);
// Expects `text` to equal tests/wg-quick/RELATIVE; rewrites the file
// instead when NMKS_UPDATE_GOLDEN=1.
void CompareGolden(const std::string& relative, const std::string& text);
// A small valid wg-quick file (one peer, kTestPrivateKey, kTestPublicKey).
std::string ValidFile();
// A distinct valid key for each number.
std::string NumberedKey(size_t number);

}  // namespace nmks::wg
