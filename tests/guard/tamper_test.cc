// Another root program attacks the table while the guard holds it. With
// protection "owner" (what "auto" picks on kernels with owned, persistent
// tables) the kernel refuses to delete or flush it, and it outlives a
// killed guard; with "watch" the guard puts it back the moment it goes.
// Packets are counted at the router, outside the tunnel.
#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "rules/table_codec.h"
#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

constexpr uint32_t kOwned = kTableFlagOwner | kTableFlagPersist;

class TamperTest : public GuardTest {
 protected:
  Outcome DeleteTable() { return Nft({"delete", "table", "inet", kTableName}); }
  Outcome FlushRuleset() { return Nft({"flush", "ruleset"}); }

  // Waits up to `wait` for the client's table to be `meant` again; the
  // time it took, or nothing.
  std::optional<std::chrono::milliseconds> AwaitTable(const TableState& meant,
                                                      std::chrono::milliseconds wait) {
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      auto now = world::ReadTableIn(world().client);
      auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - start);
      if (now.ok() && SameTable(meant, now.value()).ok()) return took;
      if (took > wait) return std::nullopt;
      std::this_thread::sleep_for(2ms);
    }
  }

  // Engages "tamper" with the CLI; checks the kernel holds exactly that
  // policy's table and returns it as read back.
  TableState Engage() {
    Outcome e = Cli({"engage", "--connection", "tamper", "--tunnel", "tun0", "--endpoint",
                     "203.0.113.1:51820"});
    EXPECT_EQ(e.exit_code, 0) << e.all();
    EXPECT_THAT(e.out, HasSubstr("Kill switch engaged for \"tamper\""));
    TableState engaged = Table();
    EXPECT_TRUE(engaged.exists);
    Policy asked = world::TunnelOnly();
    asked.endpoints = {world::Unmarked("203.0.113.1:51820/udp")};
    Status meant = CompareTable(BuildRuleset(Merge({{"tamper", asked}})), engaged);
    EXPECT_TRUE(meant.ok()) << "the kernel holds something else: " << meant.message();
    return engaged;
  }
};

TEST_F(TamperTest, OwnedTableSurvivesFlushDeleteAndGuardKill) {
  StartGuard("auto");
  ASSERT_EQ(Leaks(5000), 2u) << "without the kill switch the probes must reach the router";
  const TableState engaged = Engage();
  ASSERT_TRUE(engaged.exists);
  EXPECT_EQ(engaged.flags & kOwned, kOwned) << "--protection auto must resolve to owner here";
  EXPECT_EQ(Leaks(5001), 0u);
  EXPECT_EQ(Tunneled(5002), 2u) << "traffic through the tunnel must flow";

  Outcome flush = FlushRuleset();
  Status same = SameTable(engaged, Table());
  EXPECT_TRUE(same.ok()) << "after `nft flush ruleset` (" << flush.all() << "): " << same.message();
  Outcome del = DeleteTable();
  EXPECT_NE(del.exit_code, 0) << "root must not be able to delete the owned table";
  same = SameTable(engaged, Table());
  EXPECT_TRUE(same.ok()) << "after `nft delete table`: " << same.message();
  EXPECT_EQ(Leaks(5003), 0u);

  EXPECT_EQ(guard().Kill(), 128 + SIGKILL);
  const TableState orphaned = Table();
  ASSERT_TRUE(orphaned.exists) << "the table must outlive the guard";
  EXPECT_EQ(orphaned.flags & kTableFlagPersist, kTableFlagPersist);
  same = CompareTable(WithoutCounts(engaged.ruleset), orphaned);
  EXPECT_TRUE(same.ok()) << same.message();
  EXPECT_EQ(Leaks(5004), 0u) << "the orphaned table must still block";

  StartGuard("auto");  // the same --state-file
  Outcome status = Cli({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, HasSubstr("Kill switch: engaged"));
  EXPECT_THAT(status.out, HasSubstr("\n  tamper\n"));
  EXPECT_THAT(status.out, HasSubstr("owned by the guard"));
  EXPECT_THAT(status.out, testing::Not(HasSubstr("WARNING")));
  same = SameTable(engaged, Table());
  EXPECT_TRUE(same.ok()) << "the restarted guard must own the same table: " << same.message();
  EXPECT_NE(DeleteTable().exit_code, 0) << "the adopted table must be owned again";
  EXPECT_TRUE(Table().exists);
  Outcome verify = Cli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.all();
  EXPECT_THAT(verify.out, HasSubstr("Result: nothing got out. The kill switch works."));
  EXPECT_EQ(Leaks(5005), 0u);

  Outcome release = Cli({"release", "--connection", "tamper"});
  EXPECT_EQ(release.exit_code, 0) << release.all();
  EXPECT_FALSE(Table().exists);
  EXPECT_EQ(Leaks(5006), 2u) << "after release traffic must reach the router again";
}

TEST_F(TamperTest, WatchedTableIsRepairedAtOnce) {
  StartGuard("watch");
  const TableState engaged = Engage();
  ASSERT_TRUE(engaged.exists);
  EXPECT_EQ(engaged.flags & kOwned, 0u) << "watch mode installs an unowned table";
  EXPECT_EQ(Leaks(5010), 0u);

  Outcome del = DeleteTable();
  ASSERT_EQ(del.exit_code, 0) << "an unowned table can be deleted: " << del.all();
  auto took = AwaitTable(engaged, 1000ms);
  ASSERT_TRUE(took.has_value()) << "the table was not back within 1 s after `nft delete table`";
  std::printf("repaired %lld ms after nft delete table\n", static_cast<long long>(took->count()));
  EXPECT_EQ(Leaks(5011), 0u);

  Outcome flush = FlushRuleset();
  ASSERT_EQ(flush.exit_code, 0) << flush.all();
  took = AwaitTable(engaged, 1000ms);
  ASSERT_TRUE(took.has_value()) << "the table was not back within 1 s after `nft flush ruleset`";
  std::printf("repaired %lld ms after nft flush ruleset\n", static_cast<long long>(took->count()));
  EXPECT_EQ(Leaks(5012), 0u);
  EXPECT_THAT(guard().log(), HasSubstr("repaired"));

  // The table an owner-mode guard leaves behind, orphaned: a guard in watch
  // mode takes it over, and then repairs it like its own.
  EXPECT_EQ(guard().Stop(), 0);
  StartGuard("owner");
  EXPECT_EQ(Table().flags & kOwned, kOwned);
  EXPECT_EQ(guard().Kill(), 128 + SIGKILL);
  StartGuard("watch");
  EXPECT_THAT(guard().log(), testing::Not(HasSubstr("CRITICAL")));
  const TableState adopted = Table();
  Status same = CompareTable(WithoutCounts(engaged.ruleset), adopted);
  EXPECT_TRUE(same.ok()) << same.message();
  Outcome status = Cli({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, HasSubstr("Kill switch: engaged"));
  EXPECT_THAT(status.out, HasSubstr("repairs the table"));
  EXPECT_THAT(status.out, testing::Not(HasSubstr("WARNING")));
  EXPECT_EQ(Cli({"verify"}).exit_code, 0);
  del = DeleteTable();
  EXPECT_EQ(del.exit_code, 0) << del.all();
  took = AwaitTable(adopted, 1000ms);
  EXPECT_TRUE(took.has_value()) << "the watch guard did not repair the adopted table";
  EXPECT_EQ(Leaks(5013), 0u);
}

// `nft add table inet nm-killswitch '{ flags dormant; }'` keeps every rule
// but unhooks the chains: a watched table made dormant is a difference the
// guard repairs at once, says so in its log, and status and verify are
// whole again afterwards. How long it stayed dormant, and what got out
// meanwhile, is printed (watch mode repairs after the fact).
TEST_F(TamperTest, DormantWatchedTableIsWokenAtOnce) {
  StartGuard("watch");
  const TableState engaged = Engage();
  ASSERT_TRUE(engaged.exists);
  world::Tally leaked(world().router, std::string("ip daddr ") + kOutside + " udp dport 5020");
  PacedUdp sender(world().client, kOutside, 5020);
  std::vector<long long> windows;
  for (int i = 0; i < 5; ++i) {
    Outcome dormant = Nft({"add", "table", "inet", kTableName, "{ flags dormant; }"});
    ASSERT_EQ(dormant.exit_code, 0) << dormant.all();
    auto took = AwaitTable(engaged, 1000ms);
    ASSERT_TRUE(took.has_value()) << "the table was still dormant 1 s later";
    windows.push_back(took->count());
    std::this_thread::sleep_for(50ms);
  }
  PacedUdp::Totals totals = sender.Finish();
  const uint64_t leak = leaked.Await(0);
  std::string list;
  for (long long w : windows) list += (list.empty() ? "" : ", ") + std::to_string(w) + " ms";
  std::printf("dormant 5 times: awake again after %s; %llu of %llu datagrams reached the router\n",
              list.c_str(), static_cast<unsigned long long>(leak),
              static_cast<unsigned long long>(totals.attempts));
  EXPECT_THAT(guard().log(), HasSubstr("dormant"));
  EXPECT_EQ(Table().flags, 0u);
  EXPECT_EQ(Leaks(5021), 0u);
  Outcome status = Cli({"status"});
  EXPECT_THAT(status.out, HasSubstr("Kill switch: engaged"));
  EXPECT_THAT(status.out, testing::Not(HasSubstr("WARNING")));
  Outcome verify = Cli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.all();
}

}  // namespace
}  // namespace nmks::guardtest
