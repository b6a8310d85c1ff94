// Contract line 5's exception: DNS (port 53, UDP and TCP) to anything
// outside the tunnel is refused, even with allow-LAN on and the resolver on
// a LAN address. DNS through the tunnel goes.
#include "tests/world/world.h"

namespace nmks::world {
namespace {

constexpr char kLanResolver[] = "192.168.1.53";

class DnsTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Policy p = TunnelOnly();
    p.allow_lan = true;
    p.ipv6 = Ipv6Mode::kTunnel;
    ASSERT_TRUE(world().Install(p).ok());
  }
};

TEST_F(DnsTest, LanResolverIsRefused) {
  TcpListener resolver(world().router, kLanResolver, 53);
  Tally tally(world().router, "th dport 53");
  EXPECT_EQ(Send(world().client, {.to = kLanResolver, .port = 53, .count = 3}).error, EPERM);
  EXPECT_EQ(
      Send(world().client, {.protocol = Protocol::kTcp, .to = kLanResolver, .port = 53}).error,
      ECONNREFUSED);
  EXPECT_EQ(Send(world().client, {.to = "fd00:1::53", .port = 53}).error, EPERM);
  EXPECT_EQ(Send(world().client, {.to = "203.0.113.53", .port = 53}).error, EPERM);
  EXPECT_EQ(Send(world().client, {.to = "203.0.113.53", .port = 53, .user = User::kRoot}).error,
            EPERM);
  EXPECT_EQ(tally.Await(0), 0u);
  EXPECT_EQ(world().Stopped(Stop::kDns), 7u);

  // The same LAN host on another port is reachable: it is DNS that is refused.
  TcpListener web(world().router, kLanResolver, 80);
  Tally udp(world().router, "ip daddr 192.168.1.53 udp dport 80");
  Tally syn(world().router, "ip daddr 192.168.1.53 tcp dport 80 tcp flags syn");
  EXPECT_EQ(Send(world().client, {.to = kLanResolver, .port = 80, .count = 2}).error, 0);
  EXPECT_EQ(
      Send(world().client, {.protocol = Protocol::kTcp, .to = kLanResolver, .port = 80}).error, 0);
  EXPECT_EQ(udp.Await(2), 2u);
  EXPECT_EQ(syn.Await(1), 1u);
}

TEST_F(DnsTest, DnsThroughTheTunnelPasses) {
  world().RouteViaTunnel("203.0.113.53");
  world().RouteViaTunnel("2001:db8:ff::53");
  TcpListener resolver(world().vpn, "203.0.113.53", 53);
  Tally udp(world().vpn, "ip daddr 203.0.113.53 udp dport 53");
  Tally tcp(world().vpn, "ip daddr 203.0.113.53 tcp dport 53 tcp flags syn");
  Tally udp6(world().vpn, "ip6 daddr 2001:db8:ff::53 udp dport 53");
  EXPECT_EQ(Send(world().client, {.to = "203.0.113.53", .port = 53, .count = 3}).error, 0);
  EXPECT_EQ(
      Send(world().client, {.protocol = Protocol::kTcp, .to = "203.0.113.53", .port = 53}).error,
      0);
  EXPECT_EQ(Send(world().client, {.to = "2001:db8:ff::53", .port = 53, .count = 3}).error, 0);
  EXPECT_EQ(udp.Await(3), 3u);
  EXPECT_EQ(tcp.Await(1), 1u);
  EXPECT_EQ(udp6.Await(3), 3u);
  EXPECT_EQ(world().Stopped(Stop::kDns), 0u);
}

}  // namespace
}  // namespace nmks::world
