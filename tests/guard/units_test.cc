// The systemd units as this build configured them (BUILD/data/): valid for
// systemd-analyze when they point at the built guard, and the boot unit
// ordered so the boot table is in before any network is configured.
#include <gmock/gmock.h>

#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

// Every Key=value of a unit file, values of repeated keys joined with " ".
std::map<std::string, std::string> UnitKeys(const std::string& text) {
  std::map<std::string, std::string> keys;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#' || line[0] == ';' || line[0] == '[') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string& value = keys[line.substr(0, eq)];
    value += (value.empty() ? "" : " ") + line.substr(eq + 1);
  }
  return keys;
}

std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The unit with the program of ExecStart= replaced by the built guard.
std::string PointAtBuiltGuard(const std::string& unit) {
  std::istringstream lines(unit);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("ExecStart=", 0) == 0) {
      size_t end = line.find(' ');
      line = "ExecStart=" + GuardBinary() + (end == std::string::npos ? "" : line.substr(end));
    }
    out += line + "\n";
  }
  return out;
}

class UnitsTest : public testing::Test {
 protected:
  void SetUp() override {
    if (access("/usr/bin/systemd-analyze", X_OK) != 0) {
      if (InCi()) FAIL() << "systemd-analyze is missing (CI=true: not skipping)";
      GTEST_SKIP() << "systemd-analyze is missing";
    }
    if (access(GuardBinary().c_str(), X_OK) != 0) FAIL() << GuardBinary() << " is not built";
  }
};

TEST_F(UnitsTest, VerifyWithTheBuiltGuard) {
  TempDir dir;
  std::vector<std::string> argv = {"systemd-analyze", "verify", "--man=no"};
  for (const char* unit : {"nm-killswitch-guard.service", "nm-killswitch-boot.service",
                           "nm-killswitch-front.service"}) {
    std::string text = ReadFile(BuildPath(std::string("data/") + unit));
    ASSERT_FALSE(text.empty()) << "meson did not configure data/" << unit;
    EXPECT_THAT(text, testing::Not(HasSubstr("@"))) << unit << " has an unsubstituted @var@";
    WriteFile(dir / unit, PointAtBuiltGuard(text));
    argv.push_back(dir / unit);
  }
  Outcome verify = Execute({.argv = argv});
  EXPECT_EQ(verify.exit_code, 0) << verify.all();
  EXPECT_EQ(verify.all(), "") << "systemd-analyze verify has findings";
}

TEST_F(UnitsTest, GuardUnit) {
  auto keys = UnitKeys(ReadFile(BuildPath("data/nm-killswitch-guard.service")));
  EXPECT_EQ(keys["Type"], "dbus");
  EXPECT_EQ(keys["BusName"], "io.github.nmkillswitch.Guard1");
  EXPECT_THAT(keys["ExecStart"], testing::EndsWith("/nm-killswitch-guard"));
  EXPECT_EQ(keys["KillMode"], "process");
  // systemd keeps the socket that owns the table (guard/fd_store.h).
  EXPECT_EQ(keys["NotifyAccess"], "main");
  EXPECT_EQ(keys["FileDescriptorStoreMax"], "1");
  EXPECT_THAT(Words(keys["After"]), testing::Contains("nm-killswitch-boot.service"));
  EXPECT_THAT(Words(keys["Before"]), testing::Contains("NetworkManager.service"));
  // At shutdown the guard is stopped only after nftables.service, whose
  // ExecStop flushes the ruleset (DESIGN.md, Lifecycle).
  EXPECT_THAT(keys["ExecStop"], HasSubstr("is-system-running"));
  EXPECT_THAT(keys["ExecStop"], HasSubstr("is-active nftables.service"));
  // The D-Bus activation file starts the same unit.
  auto activation = UnitKeys(ReadFile(BuildPath("data/io.github.nmkillswitch.Guard1.service")));
  EXPECT_EQ(activation["Name"], "io.github.nmkillswitch.Guard1");
  EXPECT_EQ(activation["SystemdService"], "nm-killswitch-guard.service");
  EXPECT_EQ(activation["Exec"], keys["ExecStart"]);
}

// The front, which serves users who are not root, is held to a memory
// limit and has no privilege but being root for polkit.
TEST_F(UnitsTest, FrontUnit) {
  auto keys = UnitKeys(ReadFile(BuildPath("data/nm-killswitch-front.service")));
  EXPECT_EQ(keys["Type"], "dbus");
  EXPECT_EQ(keys["BusName"], "io.github.nmkillswitch.Front1");
  EXPECT_THAT(keys["ExecStart"], HasSubstr("/nm-killswitch-front --idle-exit "));
  EXPECT_FALSE(keys["MemoryMax"].empty());
  EXPECT_EQ(keys["MemorySwapMax"], "0");
  EXPECT_TRUE(keys.count("CapabilityBoundingSet") == 1 && keys["CapabilityBoundingSet"].empty())
      << "the front needs no capability";
  EXPECT_EQ(keys["PrivateNetwork"], "yes");
  EXPECT_EQ(keys["RestrictAddressFamilies"], "AF_UNIX");
  auto activation = UnitKeys(ReadFile(BuildPath("data/io.github.nmkillswitch.Front1.service")));
  EXPECT_EQ(activation["Name"], "io.github.nmkillswitch.Front1");
  EXPECT_EQ(activation["SystemdService"], "nm-killswitch-front.service");
  EXPECT_EQ(activation["Exec"], keys["ExecStart"]);
}

TEST_F(UnitsTest, BootUnitRunsBeforeTheNetwork) {
  auto keys = UnitKeys(ReadFile(BuildPath("data/nm-killswitch-boot.service")));
  EXPECT_EQ(keys["DefaultDependencies"], "no");
  EXPECT_THAT(Words(keys["After"]), testing::IsSupersetOf({"local-fs.target", "nftables.service"}))
      << "nftables.service flushes the ruleset: the boot table must come after it";
  EXPECT_THAT(Words(keys["Before"]),
              testing::IsSupersetOf({"network-pre.target", "NetworkManager.service"}));
  EXPECT_THAT(Words(keys["Wants"]), testing::Contains("network-pre.target"));
  EXPECT_EQ(keys["Type"], "oneshot");
  const std::string condition = keys["ConditionPathExists"];
  ASSERT_FALSE(condition.empty()) << "ConditionPathExists= is missing";
  EXPECT_EQ(condition[0], '/');
  // It loads the file it checks for, which is the file the guard writes.
  std::vector<std::string> exec = Words(keys["ExecStart"]);
  ASSERT_EQ(exec.size(), 5u) << keys["ExecStart"];
  EXPECT_THAT(exec[0], testing::EndsWith("/nm-killswitch-guard"));
  EXPECT_EQ(exec[1], "--load-boot");
  EXPECT_EQ(exec[2], condition);
  // The boot connections are saved as engaged where the guard reads them.
  EXPECT_EQ(exec[3], "--state-file");
  EXPECT_EQ(exec[4], "/run/nm-killswitch/state");
  Outcome help = Execute({.argv = {GuardBinary(), "--help"}});
  EXPECT_THAT(help.out, HasSubstr("(default " + condition + ")"))
      << "the guard's default --boot-file is not the file the boot unit loads";
}

}  // namespace
}  // namespace nmks::guardtest
