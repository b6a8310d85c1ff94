// The kill switch next to the firewalls distributions ship (issue 9): with
// Debian's default nftables.conf, a hand-written ruleset, firewalld's table,
// ufw's and docker's iptables-nft tables, or podman's netavark setting up
// and tearing down a container's network in the client, the engine
// installs its table, reads back exactly its own table (a dump answers for
// the other tables too), blocks every packet while the firewall reloads
// over and over, and on removal leaves the firewall's tables alone.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "tests/world/firewalls.h"
#include "tests/world/world.h"

namespace nmks::world {
namespace {

constexpr int kReloads = 5;

Policy Engaged() {
  Policy p = TunnelOnly();
  p.endpoints = {Unmarked("203.0.113.1:51820/udp")};
  return p;
}

class CoexistenceTest : public KernelTest, public testing::WithParamInterface<Firewall> {
 protected:
  const Firewall& firewall() const { return GetParam(); }
  Status HoldsEngaged() {
    auto state = ReadTableIn(world().client);
    if (!state.ok()) return state.status();
    return CompareTable(BuildRuleset(Engaged()), state.value());
  }
};

TEST_P(CoexistenceTest, InstallReadBackReloadAndRemove) {
  RunningFirewall running = StartFirewall(world().client, firewall());
  ASSERT_EQ(Leaks(4800), 2u) << "without the kill switch " << firewall().name
                             << " lets the probes out";

  Status installed = world().Install(Engaged());
  ASSERT_TRUE(installed.ok()) << "engage next to " << firewall().name << ": "
                              << installed.message();
  Status same = HoldsEngaged();
  EXPECT_TRUE(same.ok()) << same.message();
  EXPECT_EQ(Leaks(4801), 0u);
  world().RouteViaTunnel("203.0.113.98");
  Tally tunneled(world().vpn, "ip daddr 203.0.113.98 udp dport 4802");
  EXPECT_EQ(tunneled.Await(Send(world().client, {.to = "203.0.113.98", .port = 4802}).sent), 1u)
      << "the tunnel must carry traffic";
  const Netns& guest = world().AddGuest();
  Tally forwarded(world().router, "ip daddr 203.0.113.99 udp dport 4803");
  Send(guest, {.to = "203.0.113.99", .port = 4803, .count = 2});
  EXPECT_EQ(forwarded.Await(0), 0u) << "a guest's traffic (masqueraded or not) got out";

  // The firewall reloads while a sender streams at a blocked destination
  // and the table is read back the whole time.
  Tally leaked(world().router, "ip daddr 203.0.113.99 udp dport 4804");
  UdpStream sender(world().client, "203.0.113.99", 4804);
  std::atomic<bool> reloading{true};
  std::atomic<int> reads{0};
  std::string read_failure;
  std::thread reader([&] {
    while (reloading) {
      auto state = ReadTableIn(world().client);
      Status s = state.ok() ? CompareTable(BuildRuleset(Engaged()), state.value()) : state.status();
      if (!s.ok() && read_failure.empty()) {
        read_failure = s.message();
        if (state.ok()) {
          read_failure += "; chains read:";
          for (const ChainDef& c : state.value().ruleset.chains) read_failure += " " + c.name;
        }
      }
      ++reads;
    }
  });
  for (int i = 0; i < kReloads; ++i) ReloadFirewall(world().client, firewall());
  reloading = false;
  reader.join();
  auto totals = sender.Finish();
  ASSERT_TRUE(totals.ok()) << totals.message();
  EXPECT_EQ(read_failure, "") << "a read-back during a reload of " << firewall().name << " failed ("
                              << reads << " reads)";
  EXPECT_EQ(leaked.Await(0), 0u) << "packets got out while " << firewall().name << " reloaded";
  EXPECT_EQ(totals.value().taken, 0u);
  std::printf("%s: %d reloads, %d read-backs meanwhile, %llu datagrams tried, 0 taken\n",
              firewall().name.c_str(), kReloads, reads.load(),
              static_cast<unsigned long long>(totals.value().attempts));
  same = HoldsEngaged();
  EXPECT_TRUE(same.ok()) << "after the reloads: " << same.message();
  EXPECT_EQ(MissingTables(world().client, firewall()), "");

  Status removed = world().writer().Remove();
  ASSERT_TRUE(removed.ok()) << removed.message();
  EXPECT_EQ(MissingTables(world().client, firewall()), "")
      << "removing the kill switch must leave the firewall's tables alone";
  EXPECT_EQ(Leaks(4805), 2u) << "after removal traffic flows again";
}

INSTANTIATE_TEST_SUITE_P(Firewalls, CoexistenceTest, testing::ValuesIn(DistributionFirewalls()),
                         [](const testing::TestParamInfo<Firewall>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace nmks::world
