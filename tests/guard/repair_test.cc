// Repair(), the guard's method the dispatcher hook calls on every network
// event: it reads the table back and puts the engaged policy in place
// where the kernel's table differs, saying what differed; with nothing
// engaged, or the table exactly right, it changes nothing and says "".
// Root needs no polkit; anyone else needs io.github.nmkillswitch.configure.
#include <gmock/gmock.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <variant>

#include "guard/guard.h"
#include "rules/policy.h"
#include "rules/ruleset.h"
#include "rules/table_compare.h"
#include "tests/guard/guard_world.h"
#include "tests/world/netns.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

constexpr char kRules[] = R"(polkit.addRule(function(action, subject) {
  if (action.id == "io.github.nmkillswitch.configure" && subject.user == "@USER@")
    return polkit.Result.YES;
});
)";

class RepairTest : public GuardTest {
 protected:
  std::string Repair() {
    Reply r = CallGuard(bus().connection(), "Repair", nullptr);
    EXPECT_TRUE(r.ok()) << r.error_name << ": " << r.error;
    if (!r.ok()) return "<error>";
    const gchar* said = nullptr;
    g_variant_get(r.value.get(), "(&s)", &said);
    return said;
  }
  // Repair() called by `caller` with gdbus, from the client namespace.
  // Repair() as the dispatcher hook calls it, over the bus: users who are
  // not root call the front (the bus lets only root call the guard).
  Outcome RepairAs(const Caller& caller, bool through_front = true) {
    const char* dest = caller.uid != 0 && through_front ? "io.github.nmkillswitch.Front1"
                                                        : "io.github.nmkillswitch.Guard1";
    Spawn s{.argv = {"gdbus", "call", "--system", "--dest", dest, "--object-path",
                     "/io/github/nmkillswitch/Guard1", "--method",
                     "io.github.nmkillswitch.Guard1.Repair"},
            .netns_fd = world().client.fd(),
            .caller = caller,
            .env = {bus().env()}};
    return Execute(s);
  }
  void Engage() {
    Outcome e = Cli(
        {"engage", "--connection", "repair", "--tunnel", "tun0", "--endpoint", "203.0.113.1:1194"});
    ASSERT_EQ(e.exit_code, 0) << e.all();
  }
};

TEST_F(RepairTest, NothingToRepairChangesNothing) {
  StartGuard();
  EXPECT_EQ(Repair(), "") << "nothing engaged";
  EXPECT_FALSE(Table().exists);
  Engage();
  const TableState engaged = Table();
  EXPECT_EQ(Repair(), "");
  Status same = SameTable(engaged, Table());
  EXPECT_TRUE(same.ok()) << same.message();
  EXPECT_EQ(Leaks(5200), 0u);
}

// Engaging what makes the same table again (a VPN reconnecting, a second
// connection with nothing new) with nothing changed since commits nothing:
// the kernel's counters keep counting instead of starting from 0.
TEST_F(RepairTest, TheSameTableAgainIsNotCommittedAgain) {
  StartGuard();
  Engage();
  auto blocked = [this] {
    uint64_t n = 0;
    for (const RuleDef& r : Table().ruleset.rules) {
      if (r.stop != Stop::kBlocked) continue;
      for (const Insn& i : r.insns)
        if (const auto* c = std::get_if<Counter>(&i)) n += c->packets;
    }
    return n;
  };
  EXPECT_EQ(Leaks(5203), 0u);
  const uint64_t stopped = blocked();
  EXPECT_GE(stopped, 2u);
  Engage();
  Outcome again = Cli(
      {"engage", "--connection", "second", "--tunnel", "tun0", "--endpoint", "203.0.113.1:1194"});
  ASSERT_EQ(again.exit_code, 0) << again.all();
  EXPECT_EQ(blocked(), stopped) << "the table was committed again";
  EXPECT_EQ(EngagedNow().size(), 2u);
  // Something new is committed, and counted from 0.
  Outcome more = Cli(
      {"engage", "--connection", "second", "--tunnel", "tun0", "--endpoint", "203.0.113.2:1194"});
  ASSERT_EQ(more.exit_code, 0) << more.all();
  EXPECT_EQ(blocked(), 0u);
  EXPECT_EQ(Leaks(5204), 0u);
}

// A Repair() with nothing changed since the last one reads nothing back
// (the ruleset generation is the same); any change in between, even to a
// flag only, is still found.
TEST_F(RepairTest, AChangeAfterANothingToRepairIsStillFound) {
  StartGuard("watch");
  Engage();
  EXPECT_EQ(Repair(), "");
  EXPECT_EQ(Repair(), "");
  // Stop the guard's watch from repairing first: change and ask at once.
  world::CommandResult dormant =
      world().client.Run({"nft", "add", "table", "inet", kTableName, "{ flags dormant; }"});
  ASSERT_EQ(dormant.exit_code, 0) << dormant.output;
  std::string said = Repair();
  std::printf("Repair() said: \"%s\" (empty: the watch was first)\n", said.c_str());
  EXPECT_EQ(Table().flags, 0u) << "the dormant flag must be gone";
  EXPECT_EQ(Leaks(5201), 0u);
  world::CommandResult rule =
      world().client.Run({"nft", "insert", "rule", "inet", kTableName, "output", "accept"});
  ASSERT_EQ(rule.exit_code, 0) << rule.output;
  Repair();
  EXPECT_EQ(Repair(), "");
  EXPECT_EQ(Leaks(5202), 0u) << "the inserted accept rule must be gone";
}

TEST_F(RepairTest, ATableThatWentMissingIsBackWhenRepairReturns) {
  // Only an unowned table (protection "watch") can be taken away. The
  // guard is stopped meanwhile; its watch and the Repair() call then race,
  // and either way the table must be back when the call returns.
  StartGuard("watch");
  Engage();
  const TableState engaged = Table();
  ASSERT_EQ(kill(guard().pid(), SIGSTOP), 0);
  world::CommandResult del = world().client.Run({"nft", "delete", "table", "inet", kTableName});
  EXPECT_TRUE(del.ok()) << del.output;
  EXPECT_EQ(Leaks(5201), 2u) << "with the table gone, traffic gets out";
  auto call = std::async(std::launch::async, [this] {
    GDBusConnection* c = bus().Connect();
    Reply r = CallGuard(c, "Repair", nullptr);
    g_object_unref(c);
    return r;
  });
  std::this_thread::sleep_for(300ms);
  ASSERT_EQ(kill(guard().pid(), SIGCONT), 0);
  Reply r = call.get();
  ASSERT_TRUE(r.ok()) << r.error_name << ": " << r.error;
  const gchar* said = nullptr;
  g_variant_get(r.value.get(), "(&s)", &said);
  std::printf("Repair() said: \"%s\" (empty: the watch was first)\n", said);
  Status same = SameTable(engaged, Table());
  EXPECT_TRUE(same.ok()) << same.message();
  EXPECT_EQ(Leaks(5202), 0u);
}

TEST_F(RepairTest, OthersNeedTheConfigurePermission) {
  TestUser user("ksr-");
  std::string rules = kRules;
  Substitute(rules, "@USER@", user.name());
  polkit_ = std::make_unique<Polkit>(dir(), bus(), rules);
  StartGuard();
  Engage();
  Outcome nobody = RepairAs(Caller::Nobody());
  EXPECT_NE(nobody.exit_code, 0) << nobody.all();
  EXPECT_THAT(nobody.all(), HasSubstr("io.github.nmkillswitch.Error.NotAuthorized"));
  EXPECT_THAT(nobody.all(), HasSubstr("io.github.nmkillswitch.configure"));
  Outcome direct = RepairAs(user.caller(), false);
  EXPECT_NE(direct.exit_code, 0) << direct.all();
  EXPECT_THAT(direct.all(), HasSubstr("org.freedesktop.DBus.Error.AccessDenied"))
      << "the bus lets only root call the guard itself";
  Outcome granted = RepairAs(user.caller());
  EXPECT_EQ(granted.exit_code, 0) << granted.all();
  EXPECT_THAT(granted.out, HasSubstr("('',)"));
  Outcome root = RepairAs(Caller::Root());
  EXPECT_EQ(root.exit_code, 0) << root.all();
  EXPECT_EQ(Leaks(5203), 0u);
  polkit_.reset();
}

// Repair() in the guard itself, with no main loop reading the watch first:
// after another program commits to its own table (a firewall reload), the
// guard reads back only what can have changed (the owned table's flags;
// for a twin or an unowned table, what the notifications name), and still
// finds every change to its tables, the dormant flag included, made before
// or after that other commit.
class RepairInGuard : public testing::TestWithParam<Protection> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nmks-repair.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { world::Run({"rm", "-rf", dir_}); }
  std::string dir_;
};

TEST_P(RepairInGuard, FindsEveryChangeToItsTablesAndNothingElse) {
  world::Netns ns("rg");
  world::NetnsScope in(ns);
  if (GetParam() == Protection::kOwner) {
    auto keeps = KernelKeepsOwnedTables();
    ASSERT_TRUE(keeps.ok()) << keeps.message();
    if (!keeps.value()) GTEST_SKIP() << "this kernel cannot keep owned tables (Linux < 6.9)";
  }
  GuardOptions options;
  options.protection = GetParam();
  options.state_file = dir_ + "/state";
  options.boot_file = dir_ + "/boot.nft";
  auto started = Guard::Start(options);
  ASSERT_TRUE(started.ok()) << started.message();
  Guard& guard = *started.value();
  Policy policy;
  policy.tunnels = {"tun0"};
  policy.endpoints = {Endpoint::Parse("203.0.113.1:1194").value()};
  ASSERT_TRUE(guard.Engage("repair", policy, false).ok());
  auto repair = [&guard] {
    auto said = guard.Repair();
    EXPECT_TRUE(said.ok()) << said.message();
    return said.ok() ? said.value() : std::string("<error>");
  };
  auto as_engaged = [&guard] {
    auto kernel = guard.ReadKernel();
    if (!kernel.ok()) return kernel.status();
    return CompareTable(guard.meant(), kernel.value());
  };
  auto other_commits = [&ns] {
    world::CommandResult r = ns.Run({"nft", "add table inet other; delete table inet other"});
    ASSERT_TRUE(r.ok()) << r.output;
  };
  EXPECT_EQ(repair(), "");
  other_commits();
  EXPECT_EQ(repair(), "") << "another program's table is not ours";
  EXPECT_EQ(repair(), "");

  // Where another program can change a table of ours: the unowned table,
  // or the twin.
  const std::string mine = GetParam() == Protection::kTwin ? kTwinTableName : kTableName;
  for (const std::string& change :
       {"insert rule inet " + mine + " output accept",
        "add table inet " + mine + " { flags dormant; }",
        "delete element inet " + mine + " unmarked4 { 203.0.113.1 . udp . 1194 }"}) {
    world::CommandResult r = ns.Run({"nft", change});
    if (GetParam() == Protection::kOwner) {
      EXPECT_FALSE(r.ok()) << "the kernel let another program change an owned table: " << change;
      other_commits();
      EXPECT_EQ(repair(), "");
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.output;
    other_commits();  // the change is not the last commit
    EXPECT_NE(repair(), "") << "not found: " << change;
    Status same = as_engaged();
    EXPECT_TRUE(same.ok()) << change << ": " << same.message();
    EXPECT_EQ(repair(), "") << "after the repair of " << change;
  }
}

INSTANTIATE_TEST_SUITE_P(Protections, RepairInGuard,
                         testing::Values(Protection::kOwner, Protection::kTwin, Protection::kWatch),
                         [](const testing::TestParamInfo<Protection>& p) {
                           return std::string(ProtectionName(p.param));
                         });

}  // namespace
}  // namespace nmks::guardtest
