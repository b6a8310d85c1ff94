// Contract line 2: everything out of the tunnel interfaces passes, and the
// same destination routed around the tunnel does not. The set holds names,
// so a tunnel torn down and made again is allowed without a table change.
#include <string>

#include "tests/world/world.h"

namespace nmks::world {
namespace {

constexpr char kServer[] = "203.0.113.99";

class TunnelTest : public KernelTest {};

// Same probe, two routes: through tun0 it arrives at the vpn; through eth0
// it is refused by the kernel and never reaches the router.
TEST_F(TunnelTest, OnlyTheTunnelLeadsOut) {
  ASSERT_TRUE(world().Install(TunnelOnly()).ok());
  Tally at_vpn(world().vpn, "ip daddr 203.0.113.99 udp dport 4000");
  Tally at_router(world().router, "ip daddr 203.0.113.99 udp dport 4000");

  world().RouteViaTunnel(kServer);
  ProbeResult through = Send(world().client, {.to = kServer, .port = 4000, .count = 5});
  EXPECT_EQ(through.error, 0);
  EXPECT_EQ(at_vpn.Await(5), 5u);

  world().client.Must("ip route del 203.0.113.99");
  ProbeResult around = Send(world().client, {.to = kServer, .port = 4000, .count = 5});
  EXPECT_EQ(around.error, EPERM);
  EXPECT_EQ(around.sent, 0);
  EXPECT_EQ(at_router.Await(0), 0u);
  EXPECT_EQ(at_vpn.Now(), 5u);
  // At least our 5; the client's own IPv6 chatter (MLD reports) counts here too.
  EXPECT_GE(world().Stopped(Stop::kBlocked), 5u);
}

// TCP too: a connect through the tunnel reaches the server; around it the
// kill switch answers with a reset at once (no timeout), nothing leaves.
TEST_F(TunnelTest, TcpThroughTheTunnelOnly) {
  ASSERT_TRUE(world().Install(TunnelOnly()).ok());
  Tally at_vpn(world().vpn, "ip daddr 203.0.113.99 tcp dport 4001 tcp flags syn");
  Tally at_router(world().router, "ip daddr 203.0.113.99 tcp dport 4001");

  world().RouteViaTunnel(kServer);
  ProbeResult through =
      Send(world().client, {.protocol = Protocol::kTcp, .to = kServer, .port = 4001});
  EXPECT_EQ(through.error, ECONNREFUSED);  // the vpn side has no listener: its reset
  EXPECT_EQ(at_vpn.Await(1), 1u);

  world().client.Must("ip route del 203.0.113.99");
  ProbeResult around =
      Send(world().client, {.protocol = Protocol::kTcp, .to = kServer, .port = 4001});
  EXPECT_EQ(around.error, ECONNREFUSED);
  EXPECT_EQ(at_router.Await(0), 0u);
}

// The table names tunnels, not interface indexes: a tunnel that is deleted
// and made again after the table went in is still let through, and the
// table in the kernel is exactly what was installed.
TEST_F(TunnelTest, RecreatedTunnelIsStillAllowed) {
  Policy policy = TunnelOnly();
  ASSERT_TRUE(world().Install(policy).ok());
  world().RouteViaTunnel(kServer);
  std::string before = world().client.Must("ip -o link show tun0 | cut -d: -f1");

  world().RecreateTunnel();
  std::string after = world().client.Must("ip -o link show tun0 | cut -d: -f1");
  EXPECT_NE(before, after) << "the new tun0 should have a new index";

  Tally at_vpn(world().vpn, "ip daddr 203.0.113.99 udp dport 4002");
  ProbeResult r = Send(world().client, {.to = kServer, .port = 4002, .count = 3});
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(at_vpn.Await(3), 3u);
  auto state = world().writer().Read();
  ASSERT_TRUE(state.ok()) << state.message();
  EXPECT_TRUE(CompareTable(BuildRuleset(policy), state.value()).ok());
}

// A tunnel whose name is not in the table is just another interface.
TEST_F(TunnelTest, OtherTunnelNameIsBlocked) {
  ASSERT_TRUE(world().Install(TunnelOnly("wg0")).ok());
  world().RouteViaTunnel(kServer);
  Tally at_vpn(world().vpn, "ip daddr 203.0.113.99 udp dport 4003");
  ProbeResult r = Send(world().client, {.to = kServer, .port = 4003, .count = 3});
  EXPECT_EQ(r.error, EPERM);
  EXPECT_EQ(at_vpn.Await(0), 0u);
}

}  // namespace
}  // namespace nmks::world
