// Two faults at once: the guard dies and another root program flushes the
// ruleset before the guard is back (systemd restarts it after a second).
// The table must keep blocking, on kernels with owned persistent tables
// ("owner", Linux 6.9+) and on those without PERSIST ("twin", Linux 5.12 to
// 6.8: Debian 12, Ubuntu 24.04). The guard hands the socket that owns the
// table to the service manager's descriptor store, so the table stays owned
// while no guard runs; on "twin" kernels an unowned twin table with the same
// rules outlives the socket when the service is stopped on purpose. Every
// packet that leaves outside the tunnel is counted at the router.
#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "rules/table_codec.h"
#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

class DoubleFaultTest : public GuardTest, public testing::WithParamInterface<const char*> {
 protected:
  void Engage() {
    Outcome e = Cli(
        {"engage", "--connection", "fault", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820"});
    ASSERT_EQ(e.exit_code, 0) << e.all();
  }

  TableState Twin() {
    auto twin = world::ReadTableIn(world().client, kTwinTableName);
    EXPECT_TRUE(twin.ok()) << twin.message();
    return twin.ok() ? twin.value() : TableState{};
  }

  std::string protection() const { return GetParam(); }
  uint32_t expected_flags() const {
    return protection() == "owner" ? (kTableFlagOwner | kTableFlagPersist) : kTableFlagOwner;
  }
};

TEST_P(DoubleFaultTest, GuardKilledThenRulesetFlushedLeaksNothing) {
  FdStore store(dir());
  StartGuard(protection(), &store);
  ASSERT_GE(store.kept(), 0) << "the guard must hand its socket to the service manager\n"
                             << guard().log();
  Engage();
  const TableState engaged = Table();
  ASSERT_TRUE(engaged.exists);
  EXPECT_EQ(engaged.flags, expected_flags());
  if (protection() == "twin") {
    TableState twin = Twin();
    ASSERT_TRUE(twin.exists) << "twin mode installs the twin table";
    EXPECT_EQ(twin.flags, 0u);
    Status same = CompareTable(WithoutCounts(engaged.ruleset), twin);
    EXPECT_TRUE(same.ok()) << "the twin must hold the same rules: " << same.message();
  }

  world::Tally outside(world().router, std::string("ip daddr ") + kOutside + " udp dport 5600");
  PacedUdp traffic(world().client, kOutside, 5600);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(guard().Kill(), 128 + SIGKILL);
  for (int i = 0; i < 5; ++i) {
    Nft({"flush", "ruleset"});
    Nft({"delete", "table", "inet", kTableName});
    std::this_thread::sleep_for(20ms);
  }
  world().client.Run({"ip", "link", "set", "tun0", "down"});
  std::this_thread::sleep_for(300ms);
  const TableState after = Table();
  EXPECT_TRUE(after.exists) << "the table must survive the guard's death and a flush";
  EXPECT_EQ(after.flags, expected_flags()) << "the table must still be owned";
  EXPECT_EQ(after.owner, engaged.owner) << "by the socket the service manager keeps";
  EXPECT_EQ(outside.Now(), 0u) << "packets got out while the guard was dead and "
                                  "the ruleset was flushed";

  // systemd restarts the guard with the kept socket: it takes the table over.
  StartGuard(protection(), &store);
  world().client.Run({"ip", "link", "set", "tun0", "up"});
  EXPECT_THAT(guard().log(), HasSubstr("took over the table's socket"));
  Outcome status = Cli({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, HasSubstr("Kill switch: engaged"));
  EXPECT_THAT(status.out, testing::Not(HasSubstr("WARNING")));
  PacedUdp::Totals totals = traffic.Finish();
  EXPECT_GT(totals.attempts, 100u);
  EXPECT_EQ(outside.Await(0), 0u) << totals.attempts << " sends, of which " << totals.taken
                                  << " taken by the kernel";
  // After the traffic: verify credits a probe to the kill switch only when
  // its counters moved for that probe alone, which 1000 blocked datagrams a
  // second make impossible to tell.
  Outcome verify = Cli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.all();
  if (protection() == "twin") {
    EXPECT_TRUE(Twin().exists) << "the new guard restores the twin";
  }

  Outcome release = Cli({"release", "--connection", "fault"});
  EXPECT_EQ(release.exit_code, 0) << release.all();
  EXPECT_FALSE(Table().exists);
  EXPECT_FALSE(Twin().exists);
  EXPECT_EQ(Leaks(5601), 2u) << "after release traffic must reach the router again";
}

INSTANTIATE_TEST_SUITE_P(Kernels, DoubleFaultTest, testing::Values("owner", "twin"));

// The fault the descriptor store closes, without it: a killed owner-mode
// guard leaves an orphaned table that any root program can flush.
TEST_F(GuardTest, WithoutTheDescriptorStoreAFlushAfterTheGuardDiedRemovesTheTable) {
  StartGuard("owner");
  Outcome e = Cli(
      {"engage", "--connection", "fault", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820"});
  ASSERT_EQ(e.exit_code, 0) << e.all();
  EXPECT_THAT(guard().log(), HasSubstr("does not keep the table's socket"));
  EXPECT_EQ(guard().Kill(), 128 + SIGKILL);
  world().client.Run({"nft", "flush", "ruleset"});
  EXPECT_FALSE(Table().exists);
  EXPECT_EQ(Leaks(5610), 2u);
}

// Twin mode without a descriptor store: other programs flush, delete and
// make tables dormant while traffic runs; the owned table refuses them, the
// twin comes back, and a guard stopped on purpose leaves the twin blocking.
TEST_F(GuardTest, TwinModeBlocksThroughFlushesAndAStoppedGuard) {
  StartGuard("twin");
  Outcome e = Cli(
      {"engage", "--connection", "twin", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820"});
  ASSERT_EQ(e.exit_code, 0) << e.all();
  world::Tally outside(world().router, std::string("ip daddr ") + kOutside + " udp dport 5620");
  PacedUdp traffic(world().client, kOutside, 5620);
  for (int i = 0; i < 20; ++i) {
    Nft({"flush", "ruleset"});
    Nft({"add", "table", "inet", kTwinTableName, "{ flags dormant; }"});
    Nft({"add", "table", "inet", kTableName, "{ flags dormant; }"});
    Nft({"delete", "table", "inet", kTwinTableName});
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(outside.Now(), 0u) << "packets got out while other programs changed the tables";
  auto twin = world::ReadTableIn(world().client, kTwinTableName);
  ASSERT_TRUE(twin.ok()) << twin.message();
  EXPECT_TRUE(twin.value().exists) << "the guard restores the twin";
  EXPECT_EQ(twin.value().flags, 0u) << "and wakes it up";
  EXPECT_EQ(Table().flags, kTableFlagOwner) << "nobody else can make the owned table dormant";

  EXPECT_EQ(guard().Stop(), 0);  // on purpose: the owning socket closes
  EXPECT_FALSE(Table().exists) << "without PERSIST the owned table goes with its socket";
  twin = world::ReadTableIn(world().client, kTwinTableName);
  ASSERT_TRUE(twin.ok()) << twin.message();
  EXPECT_TRUE(twin.value().exists) << "the twin outlives the guard";
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(outside.Now(), 0u) << "packets got out after the guard stopped";
  traffic.Finish();

  StartGuard("twin");  // takes both over from the saved state
  EXPECT_EQ(Table().flags, kTableFlagOwner);
  Outcome verify = Cli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.all();
  EXPECT_EQ(outside.Await(0), 0u);
}

}  // namespace
}  // namespace nmks::guardtest
