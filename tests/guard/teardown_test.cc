// `nm-killswitch teardown`, what removing the package runs (debian/prerm):
// everything engaged is released through the guard and blocking at boot is
// turned off; with no guard to ask, the tables left in the kernel (also the
// twin a guard leaves behind on kernels without PERSIST) are deleted
// directly. Afterwards traffic flows, and each step was said.
#include <gmock/gmock.h>
#include <sys/stat.h>

#include <csignal>
#include <string>
#include <vector>

#include "rules/ruleset.h"
#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

class TeardownTest : public GuardTest {
 protected:
  Outcome Teardown() {
    return Cli({"teardown", "--timeout", "10", "--boot-file", files().boot_file});
  }
  bool BootFileExists() {
    struct stat st {};
    return stat(files().boot_file.c_str(), &st) == 0;
  }
};

TEST_F(TeardownTest, ReleasesEverythingAndTurnsBlockingAtBootOff) {
  StartGuard();
  Outcome work = Cli({"engage", "--connection", "Work VPN", "--tunnel", "tun0", "--endpoint",
                      "203.0.113.1:51820", "--block-at-boot"});
  ASSERT_EQ(work.exit_code, 0) << work.all();
  Outcome cli = Cli({"engage", "--tunnel", "wg1", "--endpoint", "203.0.113.2:51820"});
  ASSERT_EQ(cli.exit_code, 0) << cli.all();
  ASSERT_TRUE(BootFileExists());
  ASSERT_EQ(Leaks(5600), 0u);

  Outcome down = Teardown();
  EXPECT_EQ(down.exit_code, 0) << down.all();
  EXPECT_THAT(down.out, HasSubstr("engaged for: \"Work VPN\", \"command-line\"."));
  EXPECT_THAT(down.out, HasSubstr("being released now"));
  EXPECT_THAT(down.out, HasSubstr("Released: \"Work VPN\", \"command-line\"."));
  EXPECT_THAT(down.out, HasSubstr("Blocking at boot is turned off (it was on for \"Work VPN\")"));
  EXPECT_FALSE(BootFileExists()) << "teardown left " << files().boot_file;
  EXPECT_FALSE(Table().exists) << "teardown left the table";
  EXPECT_TRUE(EngagedNow().empty());
  EXPECT_EQ(Leaks(5601), 2u) << "traffic must flow after teardown";

  // Nothing left to do: says nothing alarming, succeeds.
  Outcome again = Teardown();
  EXPECT_EQ(again.exit_code, 0) << again.all();
  EXPECT_EQ(again.out, "");
}

TEST_F(TeardownTest, WithoutAGuardDeletesTheTwinItLeftBehind) {
  // A guard on a kernel without PERSIST (twin protection) that died: the
  // kernel deleted the owned table with its socket, the twin still blocks.
  StartGuard("twin");
  Outcome e = Cli({"engage", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820",
                   "--block-at-boot"});
  ASSERT_EQ(e.exit_code, 0) << e.all();
  guard().Kill();
  guard_.reset();
  Outcome twin = Nft({"list", "table", "inet", kTwinTableName});
  ASSERT_EQ(twin.exit_code, 0) << "the twin must outlive the guard: " << twin.all();
  ASSERT_EQ(Leaks(5602), 0u) << "the twin must still block";

  Outcome down = Teardown();
  EXPECT_EQ(down.exit_code, 0) << down.all();
  EXPECT_THAT(down.err, HasSubstr("guard cannot be reached"));
  EXPECT_THAT(down.out, HasSubstr("nothing can manage it any more"));
  EXPECT_THAT(down.out, HasSubstr("Deleted the kill-switch table: traffic is no longer blocked."));
  EXPECT_THAT(down.out, HasSubstr("Blocking at boot is turned off: removed"));
  EXPECT_NE(Nft({"list", "table", "inet", kTwinTableName}).exit_code, 0) << "the twin is still there";
  EXPECT_FALSE(Table().exists);
  EXPECT_FALSE(BootFileExists());
  EXPECT_EQ(Leaks(5603), 2u) << "traffic must flow after teardown";
}

TEST_F(TeardownTest, ATableItCannotDeleteIsAnErrorThatSaysWhatToDo) {
  // Another program's socket owns a table of our name (a guard that hangs,
  // say): teardown cannot delete it and must not claim it did.
  StartGuard();
  Outcome e = Cli({"engage", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820"});
  ASSERT_EQ(e.exit_code, 0) << e.all();
  kill(guard().pid(), SIGSTOP);  // the PID this test started
  Outcome down = Cli({"teardown", "--timeout", "2", "--boot-file", files().boot_file});
  kill(guard().pid(), SIGCONT);
  EXPECT_EQ(down.exit_code, 1) << down.all();
  EXPECT_THAT(down.err, HasSubstr("could not delete the kill-switch table"));
  EXPECT_THAT(down.err, HasSubstr("traffic is still blocked"));
  EXPECT_TRUE(Table().exists);
  EXPECT_EQ(Leaks(5604), 0u);
}

}  // namespace
}  // namespace nmks::guardtest
