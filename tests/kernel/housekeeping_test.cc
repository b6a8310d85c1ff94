// Contract line 4 (and its input half in line 7): DHCPv4, DHCPv6 and IPv6
// neighbour discovery work on the physical link while everything else is
// blocked, so a network change can complete. Only the exact exchanges pass.
#include <string>

#include "tests/world/world.h"

namespace nmks::world {
namespace {

class HousekeepingTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Policy p = TunnelOnly();
    p.endpoints = {Marked("[2001:db8:ff::1]:51820/udp")};
    ASSERT_TRUE(world().Install(p).ok());  // ipv6=block, no LAN: the strictest table
  }
};

// A DHCPDISCOVER: from port 68 to 255.255.255.255:67 out of eth0.
TEST_F(HousekeepingTest, Dhcpv4ClientExchangeLeaves) {
  Tally discover(world().router, "ip daddr 255.255.255.255 udp sport 68 udp dport 67");
  ProbeResult r = Send(world().client, {.to = "255.255.255.255",
                                        .port = 67,
                                        .count = 3,
                                        .user = User::kRoot,
                                        .device = "eth0",
                                        .from_port = 68,
                                        .broadcast = true});
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(discover.Await(3), 3u);

  // A renewal goes unicast to the server.
  Tally renew(world().router, "ip daddr 198.51.100.1 udp sport 68 udp dport 67");
  EXPECT_EQ(
      Send(world().client, {.to = kRouterEth4, .port = 67, .user = User::kRoot, .from_port = 68})
          .error,
      0);
  EXPECT_EQ(renew.Await(1), 1u);
}

// Where ip_unprivileged_port_start is 0 anyone may bind port 68 (or 546):
// an unprivileged program must not use DHCP's rule to reach a host on the
// internet. Only root's sockets send DHCP by unicast; anyone may broadcast
// (it stays on the link).
TEST_F(HousekeepingTest, UnprivilegedDhcpPortsReachNoUnicastHost) {
  world().client.Sysctl("net.ipv4.ip_unprivileged_port_start", "0");
  Tally internet(world().router, "ip daddr 203.0.113.99 udp dport 67");
  ProbeResult r =
      Send(world().client, {.to = "203.0.113.99", .port = 67, .count = 3, .from_port = 68});
  EXPECT_EQ(r.error, EPERM) << "nobody bound port 68 and sent by unicast";
  EXPECT_EQ(internet.Await(0), 0u);
  Tally server(world().router, "ip daddr 198.51.100.1 udp sport 68 udp dport 67");
  EXPECT_EQ(Send(world().client, {.to = kRouterEth4, .port = 67, .from_port = 68}).error, EPERM);
  EXPECT_EQ(server.Await(0), 0u);

  Tally broadcast(world().router, "ip daddr 255.255.255.255 udp sport 68 udp dport 67");
  EXPECT_EQ(Send(world().client, {.to = "255.255.255.255",
                                  .port = 67,
                                  .count = 2,
                                  .device = "eth0",
                                  .from_port = 68,
                                  .broadcast = true})
                .error,
            0);
  EXPECT_EQ(broadcast.Await(2), 2u);

  world().client.Ip("addr add fe80::2/64 dev eth0 nodad\n");
  Tally internet6(world().router, "ip6 daddr 2001:db8:ff::1 udp dport 547");
  EXPECT_EQ(Send(world().client, {.to = kInternet6Endpoint, .port = 547, .from_port = 546}).error,
            EPERM);
  EXPECT_EQ(Send(world().client, {.to = kInternet6Endpoint,
                                  .port = 547,
                                  .device = "eth0",
                                  .from = "fe80::2%eth0",
                                  .from_port = 546})
                .error,
            EPERM)
      << "from the link-local address too";
  EXPECT_EQ(internet6.Await(0), 0u);
  Tally solicit(world().router, "ip6 daddr ff02::1:2 udp sport 546 udp dport 547");
  EXPECT_EQ(
      Send(world().client,
           {.to = "ff02::1:2%eth0", .port = 547, .count = 2, .device = "eth0", .from_port = 546})
          .error,
      0);
  EXPECT_EQ(solicit.Await(2), 2u);
}

// Broadcasts that are not DHCP, and DHCP's port from any other port, stay in.
TEST_F(HousekeepingTest, OtherBroadcastsAreBlocked) {
  Tally tally(world().router, "ip daddr 255.255.255.255");
  EXPECT_EQ(Send(world().client, {.to = "255.255.255.255",
                                  .port = 67,
                                  .device = "eth0",
                                  .from_port = 5000,
                                  .broadcast = true})
                .error,
            EPERM);
  EXPECT_EQ(Send(world().client, {.to = "255.255.255.255",
                                  .port = 68,
                                  .user = User::kRoot,
                                  .device = "eth0",
                                  .from_port = 68,
                                  .broadcast = true})
                .error,
            EPERM);
  EXPECT_EQ(tally.Await(0), 0u);
}

// The server's answers (67 -> 68) come in; other traffic from it does not.
TEST_F(HousekeepingTest, Dhcpv4ServerAnswersComeIn) {
  UdpSocket client(world().client, "0.0.0.0", 68);
  UdpSocket server(world().router, kRouterEth4, 67);
  EXPECT_EQ(server.SendTo(kClientEth4, 68, 3), 0);
  EXPECT_EQ(client.Receive(), 3);
  UdpSocket other(world().router, kRouterEth4, 69);
  EXPECT_EQ(other.SendTo(kClientEth4, 68, 3), 0);
  EXPECT_EQ(client.Receive(), 0);
}

// A DHCPv6 SOLICIT: link-local source, port 546 to ff02::1:2 port 547.
TEST_F(HousekeepingTest, Dhcpv6ClientExchangeLeaves) {
  Tally solicit(world().router,
                "ip6 saddr fe80::/10 ip6 daddr ff02::1:2 udp sport 546 udp dport 547");
  ProbeResult r = Send(world().client, {.to = "ff02::1:2%eth0",
                                        .port = 547,
                                        .count = 3,
                                        .user = User::kRoot,
                                        .device = "eth0",
                                        .from_port = 546});
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(solicit.Await(3), 3u);

  Tally other(world().router, "ip6 daddr ff02::1:2");
  EXPECT_EQ(Send(world().client, {.to = "ff02::1:2%eth0", .port = 547, .from_port = 5000}).error,
            EPERM);
  EXPECT_EQ(other.Await(0), 0u);
}

TEST_F(HousekeepingTest, Dhcpv6ServerAnswersComeIn) {
  UdpSocket client(world().client, "::", 546);
  UdpSocket server(world().router, "fe80::1%client0", 547);
  EXPECT_EQ(server.SendTo("ff02::1%client0", 546, 3), 0);
  EXPECT_EQ(client.Receive(), 3);
  UdpSocket other(world().router, "fe80::1%client0", 548);
  EXPECT_EQ(other.SendTo("ff02::1%client0", 546, 3), 0);
  EXPECT_EQ(client.Receive(), 0);
}

// The kernel's own neighbour discovery resolves the router, so allowed
// IPv6 traffic (here to the endpoint) gets out, and the router's entry
// ends up confirmed.
TEST_F(HousekeepingTest, NeighbourDiscoveryResolvesTheRouter) {
  world().client.Must("ip -6 neigh flush dev eth0");
  Tally tally(world().router, "ip6 daddr 2001:db8:ff::1 udp dport 51820");
  ProbeResult r = Send(world().client, {.to = kInternet6Endpoint,
                                        .port = 51820,
                                        .count = 3,
                                        .user = User::kRoot,
                                        .mark = kDefaultMark});
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(tally.Await(3), 3u);
  std::string neigh = world().client.Must("ip -6 neigh show 2001:db8:1::1 dev eth0");
  EXPECT_TRUE(neigh.find("REACHABLE") != std::string::npos ||
              neigh.find("STALE") != std::string::npos || neigh.find("DELAY") != std::string::npos)
      << neigh;

  // And the router resolves the client: its solicitation comes in, the
  // client's advertisement goes out.
  world().router.Must("ip -6 neigh flush dev client0");
  CommandResult ping = world().router.Run({"ping", "-6", "-c", "1", "-W", "2", kClientEth6});
  std::string seen = world().router.Must("ip -6 neigh show 2001:db8:1::2 dev client0");
  EXPECT_TRUE(seen.find("lladdr") != std::string::npos) << seen << ping.output;
}

}  // namespace
}  // namespace nmks::world
