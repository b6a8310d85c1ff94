// Import and export end to end, through nmcli and the world's real
// NetworkManager, while the VPN is connected (nothing of it disturbs the
// kill switch). Every good wg-quick file imports, and exports again (the
// editor plugin fetches the keys from NetworkManager) to a file that parses
// to the same Config. Every malformed file is refused with the parser's own
// message, which names the line. A user who is not root cannot have the
// keys: the export fails with a clear error and writes nothing.
// NetworkManager runs with auth-polkit=root-only here, which refuses what
// polkit refuses a user without administrator rights.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "tests/e2e/e2e.h"
#include "wireguard/wg_config.h"
#include "wireguard/wg_test_files.h"

namespace nmks::nmworld {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "Connection 'NAME' (UUID) successfully added." -> UUID.
std::string AddedUuid(const std::string& output) {
  size_t open = output.rfind('(');
  size_t close = output.find(')', open);
  return open == std::string::npos || close == std::string::npos
             ? ""
             : output.substr(open + 1, close - open - 1);
}

class ImportExportTest : public ConnectedTest {
 protected:
  void Configure(Options& o) override { o.auth_polkit = "root-only"; }
  void SetUp() override {
    ConnectedTest::SetUp();
    if (!world_) return;
    out_ = w().dir() + "/export";
    mkdir(out_.c_str(), 01777);
    chmod(out_.c_str(), 01777);  // as /tmp: anyone may write here
  }
  std::string out_;
};

TEST_F(ImportExportTest, EveryGoodFileRoundTrips) {
  auto files = wg::TestFiles("good");
  ASSERT_FALSE(files.empty());
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    auto original = wg::ParseWgQuick(wg::ReadTestFile("good/" + file));
    ASSERT_TRUE(original.ok()) << original.message();
    auto import = w().Nmcli(
        {"connection", "import", "type", "killswitch", "file", wg::TestFilePath("good/" + file)});
    ASSERT_TRUE(import.ok()) << import.output;
    std::string uuid = AddedUuid(import.output);
    ASSERT_EQ(uuid.size(), 36u) << import.output;
    std::string path = out_ + "/" + file;
    auto exported = w().Nmcli({"connection", "export", uuid, path});
    EXPECT_TRUE(exported.ok()) << exported.output << w().Logs();
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0) << exported.output;
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    auto again = wg::ParseWgQuick(ReadFile(path));
    ASSERT_TRUE(again.ok()) << again.message() << "\n" << ReadFile(path);
    EXPECT_TRUE(again.value() == original.value()) << "exported:\n" << ReadFile(path);
    EXPECT_TRUE(w().Nmcli({"connection", "delete", uuid}).ok());
  }
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 10)) << w().Logs();
}

TEST_F(ImportExportTest, MalformedFilesAreRefusedNamingTheLine) {
  auto files = wg::TestFiles("bad");
  ASSERT_FALSE(files.empty());
  std::string before = w().Nmcli({"-g", "UUID", "connection", "show"}).output;
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    auto parsed = wg::ParseWgQuick(wg::ReadTestFile("bad/" + file));
    ASSERT_FALSE(parsed.ok());
    ASSERT_EQ(parsed.message().rfind("line ", 0), 0u) << parsed.message();
    auto import = w().Nmcli(
        {"connection", "import", "type", "killswitch", "file", wg::TestFilePath("bad/" + file)});
    EXPECT_FALSE(import.ok()) << import.output;
    // "Error: failed to import '...': FILE: line N: why."
    EXPECT_TRUE(Contains(import.output, file + ": " + parsed.message())) << import.output;
  }
  // Nothing was added.
  EXPECT_EQ(w().Nmcli({"-g", "UUID", "connection", "show"}).output, before);
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

TEST_F(ImportExportTest, ANonRootUserCannotExport) {
  std::string path = out_ + "/by-nobody.conf";
  auto exported = w().NmcliAsNobody({"connection", "export", "wg0", path});
  EXPECT_NE(exported.exit_code, 0) << exported.output;
  EXPECT_TRUE(Contains(exported.output, "NetworkManager did not give the connection's keys"))
      << exported.output;
  EXPECT_TRUE(Contains(exported.output, "nothing was written")) << exported.output;
  EXPECT_NE(access(path.c_str(), F_OK), 0);
  // Root can.
  auto by_root = w().Nmcli({"connection", "export", "wg0", path});
  EXPECT_TRUE(by_root.ok()) << by_root.output;
  EXPECT_EQ(access(path.c_str(), F_OK), 0);
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

}  // namespace
}  // namespace nmks::nmworld
