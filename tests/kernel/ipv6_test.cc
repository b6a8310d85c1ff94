// IPv6: with ipv6=block the tunnel carries no IPv6, so IPv6 is refused into
// the tunnel (counted as "ipv6") and outside it; with ipv6=tunnel IPv6 goes
// through the tunnel like IPv4, and still not around it.
#include "tests/world/world.h"

namespace nmks::world {
namespace {

constexpr char kThrough[] = "2001:db8:ff::99";  // routed via tun0
constexpr char kAround[] = "2001:db8:ff::98";   // default route, via eth0

class Ipv6Test : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    world().RouteViaTunnel(kThrough);
  }
  Status InstallIpv6(Ipv6Mode mode) {
    Policy p = TunnelOnly();
    p.ipv6 = mode;
    return world().Install(p);
  }
};

TEST_F(Ipv6Test, BlockRefusesIpv6IntoTheTunnelAndAroundIt) {
  ASSERT_TRUE(InstallIpv6(Ipv6Mode::kBlock).ok());
  Tally at_vpn(world().vpn, "ip6 daddr 2001:db8:ff::99");
  Tally at_router(world().router, "ip6 daddr 2001:db8:ff::98");
  EXPECT_EQ(Send(world().client, {.to = kThrough, .port = 4400, .count = 3}).error, EPERM);
  ProbeResult tcp =
      Send(world().client, {.protocol = Protocol::kTcp, .to = kThrough, .port = 4400});
  EXPECT_EQ(tcp.error, EACCES) << "the reject (admin-prohibited) must make connect fail fast";
  EXPECT_EQ(Send(world().client, {.to = kAround, .port = 4400, .count = 3}).error, EPERM);
  EXPECT_EQ(at_vpn.Await(0), 0u);
  EXPECT_EQ(at_router.Now(), 0u);
  // At least our 4; the client's own MLD reports into tun0 count here too.
  EXPECT_GE(world().Stopped(Stop::kIpv6), 4u);

  // IPv4 through the same tunnel is fine.
  world().RouteViaTunnel("203.0.113.99");
  Tally v4(world().vpn, "ip daddr 203.0.113.99 udp dport 4400");
  EXPECT_EQ(Send(world().client, {.to = "203.0.113.99", .port = 4400, .count = 3}).error, 0);
  EXPECT_EQ(v4.Await(3), 3u);
}

TEST_F(Ipv6Test, TunnelCarriesIpv6ButNothingGoesAround) {
  ASSERT_TRUE(InstallIpv6(Ipv6Mode::kTunnel).ok());
  Tally at_vpn(world().vpn, "ip6 daddr 2001:db8:ff::99 udp dport 4401");
  Tally syn(world().vpn, "ip6 daddr 2001:db8:ff::99 tcp dport 4401 tcp flags syn");
  Tally at_router(world().router, "ip6 daddr 2001:db8:ff::98");
  TcpListener server(world().vpn, "::", 4401);
  EXPECT_EQ(Send(world().client, {.to = kThrough, .port = 4401, .count = 3}).error, 0);
  EXPECT_EQ(Send(world().client, {.protocol = Protocol::kTcp, .to = kThrough, .port = 4401}).error,
            0);
  EXPECT_EQ(at_vpn.Await(3), 3u);
  EXPECT_EQ(syn.Await(1), 1u);

  EXPECT_EQ(Send(world().client, {.to = kAround, .port = 4401, .count = 3}).error, EPERM);
  EXPECT_EQ(Send(world().client, {.protocol = Protocol::kTcp, .to = kAround, .port = 4401}).error,
            ECONNREFUSED);
  EXPECT_EQ(at_router.Await(0), 0u);
  EXPECT_EQ(world().Stopped(Stop::kIpv6), 0u);
}

// Input: IPv6 arriving through a tunnel that carries IPv6 comes in.
TEST_F(Ipv6Test, InboundThroughTheTunnel) {
  ASSERT_TRUE(InstallIpv6(Ipv6Mode::kTunnel).ok());
  UdpSocket client(world().client, "::", 40000);
  UdpSocket server(world().vpn, kVpnTun6, 4402);
  EXPECT_EQ(server.SendTo(kClientTun6, 40000, 2), 0);
  EXPECT_EQ(client.Receive(), 2);
}

}  // namespace
}  // namespace nmks::world
