// Who may change the kill switch, decided by a real polkitd on the private
// bus with the project's actions. Without logind every non-root caller is
// "any" and gets a challenge it cannot answer: refused. Root may do all;
// reading (status) and the self-test (verify) need no rights; a user a
// rules file grants io.github.nmkillswitch.release may release a connection
// in mode "on" but not one in "lockdown". With polkitd gone, non-root
// callers are refused (fail closed). A refused call changes nothing.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <sys/stat.h>

#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

// Grants release (not release-lockdown) to the test user, and logs every
// check of our actions so the test can see polkit's JavaScript ran.
constexpr char kRules[] = R"(polkit.addRule(function(action, subject) {
  if (action.id.indexOf("io.github.nmkillswitch.") == 0)
    polkit.log("nmks-test: " + action.id + " for " + subject.user);
  if (action.id == "io.github.nmkillswitch.release" && subject.user == "@USER@")
    return polkit.Result.YES;
});
)";

class PolkitTest : public GuardTest {
 protected:
  void SetUp() override {
    GuardTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    user_ = std::make_unique<TestUser>("kst-");
    std::string rules = kRules;
    Substitute(rules, "@USER@", user_->name());
    polkit_ = std::make_unique<Polkit>(dir(), bus(), rules);
    StartGuard();
    // Two connections, as root: one "on", one "lockdown".
    Outcome on = Cli(
        {"engage", "--connection", "home", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820"});
    ASSERT_EQ(on.exit_code, 0) << on.all();
    Outcome lockdown = Cli({"engage", "--connection", "office", "--mode", "lockdown", "--tunnel",
                            "wg1", "--endpoint", "203.0.113.2:443/tcp"});
    ASSERT_EQ(lockdown.exit_code, 0) << lockdown.all();
    before_ = Table();
    ASSERT_TRUE(before_.exists);
  }
  void TearDown() override {
    if (HasFailure() && polkit_) std::printf("---- polkitd log\n%s\n", polkit_->log().c_str());
    guard_.reset();
    polkit_.reset();
    user_.reset();
    GuardTest::TearDown();
  }

  // `args` run by `caller` is refused with a message containing `why`,
  // and nothing changed: the kernel's table, what is engaged, the boot file.
  void ExpectRefused(const std::vector<std::string>& args, const Caller& caller,
                     const std::string& why) {
    std::string command;
    for (const auto& a : args) command += " " + a;
    SCOPED_TRACE("nm-killswitch" + command + " as uid " + std::to_string(caller.uid));
    Outcome r = Cli(args, caller);
    EXPECT_EQ(r.exit_code, 1) << r.all();
    EXPECT_THAT(r.err, HasSubstr(why));
    EXPECT_THAT(r.out, testing::Not(HasSubstr("released")));
    Status same = SameTable(before_, Table());
    EXPECT_TRUE(same.ok()) << same.message();
    Engagements now = EngagedNow();
    EXPECT_EQ(now.size(), 2u);
    EXPECT_TRUE(now.count("home") && now.count("office"));
    struct stat st {};
    EXPECT_NE(stat(files().boot_file.c_str(), &st), 0) << "a boot file was written";
  }

  std::unique_ptr<TestUser> user_;
  TableState before_;
};

TEST_F(PolkitTest, NobodyMayOnlyLookAndSelfTest) {
  const Caller nobody = Caller::Nobody();
  ExpectRefused({"engage", "--connection", "evil", "--tunnel", "eth0"}, nobody,
                "not authorized: this needs the permission io.github.nmkillswitch.configure");
  ExpectRefused({"engage", "--connection", "home", "--tunnel", "eth0"}, nobody, "not authorized");
  ExpectRefused({"release", "--connection", "home"}, nobody,
                "not authorized: this needs the permission io.github.nmkillswitch.release ");
  ExpectRefused({"release", "--connection", "office"}, nobody,
                "io.github.nmkillswitch.release-lockdown");
  ExpectRefused({"release", "--all"}, nobody, "not authorized");
  ExpectRefused({"boot", "on"}, nobody,
                "not authorized: this needs the permission io.github.nmkillswitch.boot");
  EXPECT_EQ(Leaks(5100), 0u);

  Outcome status = Cli({"status"}, nobody);
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, HasSubstr("Kill switch: engaged"));
  EXPECT_THAT(status.out, HasSubstr("\n  home\n"));
  EXPECT_THAT(status.out, HasSubstr("\n  office\n"));
  Outcome verify = Cli({"verify"}, nobody);
  EXPECT_EQ(verify.exit_code, 0) << verify.all();
  EXPECT_THAT(verify.out, HasSubstr("Result: nothing got out. The kill switch works."));

  // Root may do all of it.
  Outcome boot = Cli({"boot", "on"});
  EXPECT_EQ(boot.exit_code, 0) << boot.all();
  struct stat st {};
  EXPECT_EQ(stat(files().boot_file.c_str(), &st), 0);
  Outcome release = Cli({"release", "--connection", "office"});
  EXPECT_EQ(release.exit_code, 0) << release.all();
  Outcome all = Cli({"release", "--all"});
  EXPECT_EQ(all.exit_code, 0) << all.all();
  EXPECT_FALSE(Table().exists);
  EXPECT_EQ(Leaks(5101), 2u);
}

TEST_F(PolkitTest, ReleaseGrantCoversOnButNotLockdown) {
  const Caller granted = user_->caller();
  ExpectRefused({"release", "--connection", "office"}, granted,
                "io.github.nmkillswitch.release-lockdown");
  ExpectRefused({"release", "--all"}, granted, "io.github.nmkillswitch.release-lockdown");
  ExpectRefused({"engage", "--connection", "evil", "--tunnel", "eth0"}, granted,
                "io.github.nmkillswitch.configure");
  ExpectRefused({"boot", "on"}, granted, "io.github.nmkillswitch.boot");

  Outcome release = Cli({"release", "--connection", "home"}, granted);
  EXPECT_EQ(release.exit_code, 0) << release.all();
  Engagements now = EngagedNow();
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now.begin()->first, "office");
  EXPECT_EQ(now.begin()->second.mode, Mode::kLockdown);
  TableState after = Table();
  Status exact = CompareTable(BuildRuleset(Merge(now)), after);
  EXPECT_TRUE(exact.ok()) << exact.message();
  EXPECT_EQ(Leaks(5110), 0u) << "the lockdown connection still blocks";
  EXPECT_THAT(polkit_->log(),
              HasSubstr("nmks-test: io.github.nmkillswitch.release for " + user_->name()));
}

TEST_F(PolkitTest, WithoutPolkitdNonRootIsRefused) {
  polkit_->Stop();
  ExpectRefused({"release", "--connection", "home"}, user_->caller(),
                "cannot ask polkit whether this is allowed");
  ExpectRefused({"engage", "--connection", "evil", "--tunnel", "eth0"}, Caller::Nobody(),
                "refused");
  ExpectRefused({"boot", "on"}, Caller::Nobody(), "refused");
  EXPECT_EQ(Leaks(5120), 0u);
  // Root does not need polkit.
  Outcome all = Cli({"release", "--all"});
  EXPECT_EQ(all.exit_code, 0) << all.all();
  EXPECT_FALSE(Table().exists);
}

// A user allowed configure, release and boot, but not release-lockdown,
// tries every way around the lockdown: each is refused, and nothing gets out.
constexpr char kConfigureRules[] = R"(polkit.addRule(function(action, subject) {
  if (action.id.indexOf("io.github.nmkillswitch.") == 0)
    polkit.log("nmks-test: " + action.id + " for " + subject.user);
  if ((action.id == "io.github.nmkillswitch.configure" ||
       action.id == "io.github.nmkillswitch.release" ||
       action.id == "io.github.nmkillswitch.boot") && subject.user == "@USER@")
    return polkit.Result.YES;
});
)";

class LockdownTest : public PolkitTest {
 protected:
  void SetUp() override {
    GuardTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    user_ = std::make_unique<TestUser>("ksl-");
    std::string rules = kConfigureRules;
    Substitute(rules, "@USER@", user_->name());
    polkit_ = std::make_unique<Polkit>(dir(), bus(), rules);
    StartGuard();
    Outcome lockdown = Cli({"engage", "--connection", "office", "--mode", "lockdown", "--tunnel",
                            "wg1", "--endpoint", "203.0.113.2:443/tcp", "--block-at-boot"});
    ASSERT_EQ(lockdown.exit_code, 0) << lockdown.all();
    before_ = Table();
    ASSERT_TRUE(before_.exists);
  }
};

TEST_F(LockdownTest, ConfigureAndReleaseCannotLoosenALockdown) {
  const Caller user = user_->caller();
  const std::string needs = "io.github.nmkillswitch.release-lockdown";
  const std::string boot_before = ReadFile(files().boot_file);
  struct Attempt {
    const char* what;
    std::vector<std::string> args;
  };
  const Attempt attempts[] = {
      {"re-engage in mode on",
       {"engage", "--connection", "office", "--mode", "on", "--tunnel", "wg1", "--endpoint",
        "203.0.113.2:443/tcp", "--block-at-boot"}},
      {"re-engage in lockdown with the NIC as tunnel",
       {"engage", "--connection", "office", "--mode", "lockdown", "--tunnel", "eth0",
        "--block-at-boot"}},
      {"re-engage in lockdown, not at boot",
       {"engage", "--connection", "office", "--mode", "lockdown", "--tunnel", "wg1", "--endpoint",
        "203.0.113.2:443/tcp"}},
      {"another connection with the NIC as tunnel",
       {"engage", "--connection", "evil", "--tunnel", "eth0"}},
      {"another connection with the LAN allowed and the test host as endpoint",
       {"engage", "--connection", "evil", "--tunnel", "wg1", "--endpoint", "203.0.113.99:5700",
        "--allow-lan"}},
      {"release", {"release", "--connection", "office"}},
      {"release all", {"release", "--all"}},
      {"take it out of the boot file", {"boot", "off", "--connection", "office"}},
      {"blocking at boot off", {"boot", "off"}},
  };
  for (const Attempt& a : attempts) {
    SCOPED_TRACE(a.what);
    Outcome r = Cli(a.args, user);
    EXPECT_EQ(r.exit_code, 1) << r.all();
    EXPECT_THAT(r.err, HasSubstr(needs));
    Status same = SameTable(before_, Table());
    EXPECT_TRUE(same.ok()) << same.message();
    Engagements now = EngagedNow();
    ASSERT_EQ(now.size(), 1u);
    EXPECT_EQ(now.at("office").mode, Mode::kLockdown);
    EXPECT_EQ(ReadFile(files().boot_file), boot_before);
    EXPECT_EQ(Leaks(5700), 0u);
  }

  // What does not loosen it stays allowed: the same policy again, and a
  // connection in mode on that lets nothing more through; releasing that.
  Outcome same = Cli({"engage", "--connection", "office", "--mode", "lockdown", "--tunnel", "wg1",
                      "--endpoint", "203.0.113.2:443/tcp", "--block-at-boot"},
                     user);
  EXPECT_EQ(same.exit_code, 0) << same.all();
  Outcome narrow =
      Cli({"engage", "--connection", "home", "--tunnel", "wg1", "--ipv6", "block"}, user);
  EXPECT_EQ(narrow.exit_code, 0) << narrow.all();
  Outcome release = Cli({"release", "--connection", "home"}, user);
  EXPECT_EQ(release.exit_code, 0) << release.all();
  Outcome boot_on = Cli({"boot", "on"}, user);
  EXPECT_EQ(boot_on.exit_code, 0) << boot_on.all();
  EXPECT_EQ(ReadFile(files().boot_file), boot_before);
  EXPECT_EQ(Leaks(5701), 0u);
  EXPECT_EQ(EngagedNow().at("office").mode, Mode::kLockdown);

  // Root may (the VPN plugin and the dispatcher engage as root), and a root
  // engagement merges with the lockdown instead of replacing it.
  Outcome root = Cli({"engage", "--connection", "vpn", "--tunnel", "tun0"});
  EXPECT_EQ(root.exit_code, 0) << root.all();
  EXPECT_EQ(Tunneled(5702), 2u);
  EXPECT_EQ(Leaks(5703), 0u);
  Outcome root_release = Cli({"release", "--connection", "vpn"});
  EXPECT_EQ(root_release.exit_code, 0) << root_release.all();
  EXPECT_EQ(Tunneled(5704), 0u);
  EXPECT_EQ(Leaks(5705), 0u);
}

}  // namespace
}  // namespace nmks::guardtest
