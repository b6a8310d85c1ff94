// The guard next to the firewalls distributions ship (issue 9): with
// Debian's default nftables.conf, a hand-written ruleset, firewalld's table,
// ufw's and docker's iptables-nft tables, or podman's netavark (a
// container's network set up, and torn down and set up again as a reload)
// in the client, and while each reloads, `engage`, `status`, `verify`,
// Repair and `release` work and tell the truth, the firewall's tables stay,
// and packets are counted at the router. With protection "owner" and "twin"
// nothing gets out (`flush ruleset` takes only the unowned twin, which the
// guard puts back). With "watch" such a reload takes the unowned table away
// until the guard puts it back: that window is measured and printed, not
// asserted (watch mode is being redesigned); every other reload leaks
// nothing.
#include <gmock/gmock.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/guard/guard_world.h"
#include "tests/world/firewalls.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;
using testing::Not;

constexpr int kReloads = 5;

class CoexistenceTest
    : public GuardTest,
      public testing::WithParamInterface<std::tuple<world::Firewall, const char*>> {
 protected:
  const world::Firewall& firewall() const { return std::get<0>(GetParam()); }
  std::string protection() const { return std::get<1>(GetParam()); }

  // Waits until the client's table is `meant` again; false after 2 s.
  bool AwaitTable(const TableState& meant) {
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto now = world::ReadTableIn(world().client);
      if (now.ok() && SameTable(meant, now.value()).ok()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }
  std::string Repair() {
    Reply r = CallGuard(bus().connection(), "Repair", nullptr);
    EXPECT_TRUE(r.ok()) << r.error_name << ": " << r.error;
    if (!r.ok()) return "<error>";
    const gchar* said = nullptr;
    g_variant_get(r.value.get(), "(&s)", &said);
    return said;
  }
  void ExpectEngagedAndTruthful(const std::string& when) {
    Outcome status = Cli({"status"});
    EXPECT_EQ(status.exit_code, 0) << status.all();
    EXPECT_THAT(status.out, HasSubstr("Kill switch: engaged")) << when;
    EXPECT_THAT(status.out, Not(HasSubstr("WARNING"))) << when;
    Outcome verify = Cli({"verify"});
    EXPECT_EQ(verify.exit_code, 0) << when << ":\n" << verify.all();
    EXPECT_THAT(verify.out, HasSubstr("Result: nothing got out. The kill switch works."));
  }
};

TEST_P(CoexistenceTest, EngageReloadRepairVerifyAndRelease) {
  world::RunningFirewall running = world::StartFirewall(world().client, firewall());
  StartGuard(protection());
  ASSERT_EQ(Leaks(5300), 2u) << "without the kill switch " << firewall().name
                             << " lets the probes out";

  Outcome engage = Cli(
      {"engage", "--connection", "coexist", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820"});
  ASSERT_EQ(engage.exit_code, 0) << "engage next to " << firewall().name << ":\n" << engage.all();
  const TableState engaged = Table();
  ASSERT_TRUE(engaged.exists);
  EXPECT_EQ(engaged.ruleset.chains.size(), 3u) << "the read-back must see only our table";
  EXPECT_EQ(Leaks(5301), 0u);
  EXPECT_EQ(Tunneled(5302), 2u) << "traffic through the tunnel must flow";
  ExpectEngagedAndTruthful("engaged next to " + firewall().name);

  // Reloads while a program keeps sending around the tunnel.
  world::Tally leaked(world().router, std::string("ip daddr ") + kOutside + " udp dport 5303");
  PacedUdp sender(world().client, kOutside, 5303);
  int missing_after = 0;
  for (int i = 0; i < kReloads; ++i) {
    world::ReloadFirewall(world().client, firewall());
    if (!AwaitTable(engaged)) ++missing_after;
    std::this_thread::sleep_for(20ms);
  }
  PacedUdp::Totals totals = sender.Finish();
  const uint64_t leak = leaked.Await(0);
  std::printf("%s, protection %s: %d reloads, %llu datagrams sent, %llu reached the router\n",
              firewall().name.c_str(), protection().c_str(), kReloads,
              static_cast<unsigned long long>(totals.attempts),
              static_cast<unsigned long long>(leak));
  EXPECT_EQ(missing_after, 0) << "the table was not ours within 2 s after a reload";
  if (protection() != "watch" || !firewall().flushes_ruleset) {
    EXPECT_EQ(leak, 0u) << "packets got out while " << firewall().name << " reloaded";
  }
  EXPECT_THAT(guard().log(), Not(HasSubstr("could not be repaired")));
  EXPECT_EQ(world::MissingTables(world().client, firewall()), "");

  EXPECT_EQ(Repair(), "") << "after the reloads the table must be whole";
  Status same = SameTable(engaged, Table());
  EXPECT_TRUE(same.ok()) << same.message();
  EXPECT_EQ(Leaks(5304), 0u);
  ExpectEngagedAndTruthful("after " + firewall().name + " reloaded");

  Outcome release = Cli({"release", "--connection", "coexist"});
  EXPECT_EQ(release.exit_code, 0) << release.all();
  EXPECT_FALSE(Table().exists);
  EXPECT_EQ(world::MissingTables(world().client, firewall()), "")
      << "release must leave the firewall's tables alone";
  EXPECT_EQ(Leaks(5305), 2u) << "after release traffic flows again";
  Outcome status = Cli({"status"});
  EXPECT_THAT(status.out, HasSubstr("Kill switch: not engaged. Traffic is not blocked."));
}

// Each firewall with each protection; netavark with one: its reloads never
// flush the ruleset (nothing to tell the protections apart), and verify
// takes about a minute next to its bridge (the gap above).
std::vector<std::tuple<world::Firewall, const char*>> Cases() {
  std::vector<std::tuple<world::Firewall, const char*>> cases;
  for (const world::Firewall& firewall : world::DistributionFirewalls()) {
    for (const char* protection : {"owner", "twin", "watch"}) {
      if (firewall.name == "netavark" && std::string(protection) != "twin") continue;
      cases.emplace_back(firewall, protection);
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(
    Firewalls, CoexistenceTest, testing::ValuesIn(Cases()),
    [](const testing::TestParamInfo<std::tuple<world::Firewall, const char*>>& info) {
      return std::get<0>(info.param).name + "_" + std::get<1>(info.param);
    });

}  // namespace
}  // namespace nmks::guardtest
