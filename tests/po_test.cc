// Every source file with a translatable string is in po/POTFILES.in, and
// every file listed there exists: a message that is not extracted is never
// translated.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(PoTest, PotfilesListsEveryFileWithTranslatableStrings) {
  const fs::path root = NMKS_SOURCE_DIR;
  std::set<std::string> listed;
  std::istringstream potfiles(Slurp(root / "po" / "POTFILES.in"));
  for (std::string line; std::getline(potfiles, line);) {
    if (line.empty() || line[0] == '#') continue;
    listed.insert(line);
    EXPECT_TRUE(fs::exists(root / line)) << "po/POTFILES.in lists " << line
                                         << ", which does not exist";
  }
  for (const char* dir : {"rules", "guard", "cli", "nm-plugin", "dispatcher"}) {
    for (const auto& entry : fs::directory_iterator(root / dir)) {
      const std::string name = entry.path().filename().string();
      if (entry.path().extension() != ".cc" || name.ends_with("_test.cc")) continue;
      const std::string text = Slurp(entry.path());
      if (text.find("_(\"") == std::string::npos && text.find("N_(\"") == std::string::npos) {
        continue;
      }
      const std::string relative = std::string(dir) + "/" + name;
      EXPECT_TRUE(listed.count(relative)) << relative
                                          << " has translatable strings; add it to "
                                             "po/POTFILES.in";
    }
  }
}

}  // namespace
