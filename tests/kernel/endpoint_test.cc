// Contract line 3 (and the endpoint half of line 7): the VPN servers are
// reachable outside the tunnel, as address . protocol . port; a marked
// endpoint (our own WireGuard) only by packets carrying our fwmark, so no
// other program can reach the server directly; replies from the endpoints
// come in, nothing else from outside does.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "tests/world/world.h"

namespace nmks::world {
namespace {

constexpr char kForeign[] = "203.0.113.10";     // a foreign VPN client's server, udp 1194
constexpr char kForeignTcp[] = "203.0.113.11";  // tcp 443
constexpr char kOurs[] = "203.0.113.1";         // our WireGuard's server, udp 51820, marked

class EndpointTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Policy p = TunnelOnly();
    p.endpoints = {Unmarked("203.0.113.10:1194/udp"), Unmarked("203.0.113.11:443/tcp"),
                   Marked("203.0.113.1:51820/udp"), Marked("[2001:db8:ff::1]:51820/udp"),
                   Unmarked("[2001:db8:ff::10]:1194/udp")};
    ASSERT_TRUE(world().Install(p).ok());
  }
};

// Any program, unprivileged, reaches a foreign VPN's server on its tuple.
TEST_F(EndpointTest, UnmarkedEndpointIsReachableByAnyProcess) {
  Tally udp(world().router, "ip daddr 203.0.113.10 udp dport 1194");
  ProbeResult r = Send(world().client, {.to = kForeign, .port = 1194, .count = 3});
  EXPECT_EQ(r.error, 0);
  EXPECT_EQ(udp.Await(3), 3u);

  TcpListener server(world().router, kForeignTcp, 443);
  Tally tcp(world().router, "ip daddr 203.0.113.11 tcp dport 443 tcp flags syn");
  ProbeResult c =
      Send(world().client, {.protocol = Protocol::kTcp, .to = kForeignTcp, .port = 443});
  EXPECT_EQ(c.error, 0) << "the SYN-ACK from the endpoint must come back in";
  EXPECT_EQ(tcp.Await(1), 1u);

  Tally udp6(world().router, "ip6 daddr 2001:db8:ff::10 udp dport 1194");
  ProbeResult r6 = Send(world().client, {.to = "2001:db8:ff::10", .port = 1194, .count = 3});
  EXPECT_EQ(r6.error, 0);
  EXPECT_EQ(udp6.Await(3), 3u);
}

// The tuple is exact: another port, another protocol, another address of
// the same server are blocked.
TEST_F(EndpointTest, WrongPortProtocolOrAddressIsRefused) {
  Tally router(world().router, "ip daddr 203.0.113.0/24 meta l4proto { tcp, udp }");
  EXPECT_EQ(Send(world().client, {.to = kForeign, .port = 1195, .count = 2}).error, EPERM);
  EXPECT_EQ(Send(world().client, {.protocol = Protocol::kTcp, .to = kForeign, .port = 1194}).error,
            ECONNREFUSED);
  EXPECT_EQ(Send(world().client, {.to = kForeignTcp, .port = 443}).error, EPERM);
  EXPECT_EQ(Send(world().client, {.to = "203.0.113.12", .port = 1194}).error, EPERM);
  EXPECT_EQ(router.Await(0), 0u);

  Tally router6(world().router, "ip6 daddr 2001:db8:ff::/64 meta l4proto { tcp, udp }");
  EXPECT_EQ(Send(world().client, {.to = "2001:db8:ff::10", .port = 1195}).error, EPERM);
  EXPECT_EQ(Send(world().client, {.to = "2001:db8:ff::11", .port = 1194}).error, EPERM);
  EXPECT_EQ(router6.Await(0), 0u);
}

// Our WireGuard's server: only packets with our fwmark get there. Not an
// unprivileged program, not root without the mark, not another mark.
TEST_F(EndpointTest, MarkedEndpointOnlyWithOurMark) {
  Tally tally(world().router, "ip daddr 203.0.113.1 udp dport 51820");
  EXPECT_EQ(Send(world().client, {.to = kOurs, .port = 51820, .count = 2}).error, EPERM);
  EXPECT_EQ(
      Send(world().client, {.to = kOurs, .port = 51820, .count = 2, .user = User::kRoot}).error,
      EPERM);
  EXPECT_EQ(Send(world().client,
                 {.to = kOurs, .port = 51820, .count = 2, .user = User::kRoot, .mark = 0x1234})
                .error,
            EPERM);
  EXPECT_EQ(tally.Await(0), 0u);

  ProbeResult ours =
      Send(world().client,
           {.to = kOurs, .port = 51820, .count = 3, .user = User::kRoot, .mark = kDefaultMark});
  EXPECT_EQ(ours.error, 0);
  EXPECT_EQ(tally.Await(3), 3u);

  // The mark opens only the endpoint's tuple, not the server's other ports.
  Tally other(world().router, "ip daddr 203.0.113.1 udp dport 51821");
  EXPECT_EQ(
      Send(world().client, {.to = kOurs, .port = 51821, .user = User::kRoot, .mark = kDefaultMark})
          .error,
      EPERM);
  EXPECT_EQ(other.Await(0), 0u);
}

TEST_F(EndpointTest, MarkedIpv6EndpointOnlyWithOurMark) {
  Tally tally(world().router, "ip6 daddr 2001:db8:ff::1 udp dport 51820");
  EXPECT_EQ(Send(world().client, {.to = kInternet6Endpoint, .port = 51820, .count = 2}).error,
            EPERM);
  EXPECT_EQ(Send(world().client,
                 {.to = kInternet6Endpoint, .port = 51820, .count = 2, .user = User::kRoot})
                .error,
            EPERM);
  EXPECT_EQ(tally.Await(0), 0u);
  ProbeResult ours = Send(world().client, {.to = kInternet6Endpoint,
                                           .port = 51820,
                                           .count = 3,
                                           .user = User::kRoot,
                                           .mark = kDefaultMark});
  EXPECT_EQ(ours.error, 0);
  EXPECT_EQ(tally.Await(3), 3u);
}

// Input: what the endpoint sends from its tuple reaches a client socket;
// the same server from another port, or another server, does not.
TEST_F(EndpointTest, RepliesFromTheEndpointComeIn) {
  UdpSocket client(world().client, "0.0.0.0", 40000);
  UdpSocket endpoint(world().router, kOurs, 51820);
  EXPECT_EQ(endpoint.SendTo(kClientEth4, 40000, 3), 0);
  EXPECT_EQ(client.Receive(), 3);

  uint64_t inbound = world().Stopped(Stop::kInbound);
  UdpSocket other_port(world().router, kOurs, 51821);
  UdpSocket other_host(world().router, "203.0.113.20", 51820);
  EXPECT_EQ(other_port.SendTo(kClientEth4, 40000, 3), 0);
  EXPECT_EQ(other_host.SendTo(kClientEth4, 40000, 3), 0);
  EXPECT_EQ(client.Receive(), 0);
  EXPECT_GE(world().Stopped(Stop::kInbound), inbound + 6);

  UdpSocket client6(world().client, "::", 40000);
  UdpSocket endpoint6(world().router, kInternet6Endpoint, 51820);
  UdpSocket router6(world().router, kRouterEth6, 51820);
  EXPECT_EQ(endpoint6.SendTo(kClientEth6, 40000, 3), 0);
  EXPECT_EQ(client6.Receive(), 3);
  EXPECT_EQ(router6.SendTo(kClientEth6, 40000, 3), 0);
  EXPECT_EQ(client6.Receive(), 0);
}

// The same server as a marked endpoint of one connection (our WireGuard)
// and an unmarked one of another (a foreign client), or under two marks:
// the merged table installs (the kernel once refused it, "File exists",
// and the connections blocked each other), and each gets what it asked for.
TEST_F(EndpointTest, SameServerMarkedForOneConnectionAndUnmarkedForAnother) {
  Policy ours = TunnelOnly();
  ours.endpoints = {Marked("203.0.113.1:51820/udp"), Marked("[2001:db8:ff::1]:51820/udp")};
  Policy other_mark = TunnelOnly();
  other_mark.endpoints = {Marked("203.0.113.1:51820/udp")};
  other_mark.endpoints[0].mark = 0x1234;
  ASSERT_TRUE(world().Install(Merge({{"ours", ours}, {"other-mark", other_mark}})).ok());
  Tally tally(world().router, "ip daddr 203.0.113.1 udp dport 51820");
  EXPECT_EQ(Send(world().client, {.to = kOurs, .port = 51820}).error, EPERM)
      << "marked twice: still only for marked packets";
  EXPECT_EQ(
      Send(world().client, {.to = kOurs, .port = 51820, .user = User::kRoot, .mark = 0x1234}).error,
      0);
  EXPECT_EQ(tally.Await(1), 1u);

  Policy foreign = TunnelOnly();
  foreign.endpoints = {Unmarked("203.0.113.1:51820/udp"), Unmarked("[2001:db8:ff::1]:51820/udp")};
  Status merged = world().Install(Merge({{"ours", ours}, {"foreign", foreign}}));
  ASSERT_TRUE(merged.ok()) << merged.message();
  EXPECT_EQ(Send(world().client, {.to = kOurs, .port = 51820, .count = 2}).error, 0)
      << "the foreign client's endpoint is open to any program";
  EXPECT_EQ(tally.Await(3), 3u);
  Tally tally6(world().router, "ip6 daddr 2001:db8:ff::1 udp dport 51820");
  EXPECT_EQ(Send(world().client, {.to = kInternet6Endpoint, .port = 51820}).error, 0);
  EXPECT_EQ(tally6.Await(1), 1u);
  // Replies come in from the server's tuple.
  UdpSocket client(world().client, "0.0.0.0", 40000);
  UdpSocket endpoint(world().router, kOurs, 51820);
  EXPECT_EQ(endpoint.SendTo(kClientEth4, 40000, 2), 0);
  EXPECT_EQ(client.Receive(), 2);
}

// A reply too big for one packet arrives in IP fragments. IPv4 reassembles
// before the input hook, so the endpoint rule sees the whole datagram.
TEST_F(EndpointTest, FragmentedIpv4RepliesFromTheEndpointComeIn) {
  UdpSocket client(world().client, "0.0.0.0", 40000);
  UdpSocket endpoint(world().router, kForeign, 1194);
  EXPECT_EQ(endpoint.SendTo(kClientEth4, 40000, 2, 3000), 0);
  EXPECT_EQ(client.Receive(), 2);
}

// IPv6 fragments are reassembled before the input hook only when conntrack
// is in use; a non-first fragment has no transport header and could never
// match `ip6 saddr . meta l4proto . th sport @marked_in6`. The table's
// `ct state established,related` rule brings conntrack (and with it IPv6
// defragmentation) in, so fragmented replies from an IPv6 endpoint arrive
// whole. (Found by this test: before that rule they were all dropped.)
TEST_F(EndpointTest, FragmentedIpv6RepliesFromTheEndpointComeIn) {
  UdpSocket client(world().client, "::", 40000);
  // Marked for output; input lets every endpoint's tuple in, marked or not.
  UdpSocket small(world().router, "2001:db8:ff::1", 51820);
  EXPECT_EQ(small.SendTo(kClientEth6, 40000, 2), 0);
  ASSERT_EQ(client.Receive(), 2);
  uint64_t inbound = world().Stopped(Stop::kInbound);
  EXPECT_EQ(small.SendTo(kClientEth6, 40000, 2, 3000), 0);
  EXPECT_EQ(client.Receive(), 2);
  EXPECT_EQ(world().Stopped(Stop::kInbound), inbound);
}

// ICMP errors about allowed traffic come in: an IPv6 router on the way to
// the endpoint sends "packet too big" from its own address, and the
// `ct state related` rule lets it in, so the client learns the path MTU
// and the retried datagram arrives in fragments. (Before that rule it was
// dropped as "inbound" and every big datagram to the server was lost.)
TEST_F(EndpointTest, PacketTooBigFromThePathComesIn) {
  // Beyond the router, over a 1280-byte link: a server at 2001:db8:ee::1.
  Netns far("f");
  world().router.Sysctl("net.ipv6.conf.all.forwarding", "1");
  world().router.Ip("link add far0 mtu 1280 type veth peer name eth0 netns " + far.name() +
                    "\n"
                    "addr add 2001:db8:ee::2/64 dev far0 nodad\n"
                    "link set far0 up\n");
  far.Ip(
      "link set eth0 mtu 1280\n"
      "addr add 2001:db8:ee::1/64 dev eth0 nodad\n"
      "addr add 2001:db8:ee::3/64 dev eth0 nodad\n"
      "link set eth0 up\n"
      "route add default via 2001:db8:ee::2\n");
  Policy p = TunnelOnly();
  p.endpoints = {Unmarked("[2001:db8:ee::1]:1194/udp")};
  auto send_twice = [&](const char* to) {
    Tally arrived(far, std::string("ip6 daddr ") + to + " udp dport 1194");
    Probe big{.to = to, .port = 1194, .bytes = 1400};
    EXPECT_EQ(Send(world().client, big).error, 0);  // too big: the router answers PTB
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(Send(world().client, big).error, 0);  // now in fragments, if PTB came in
    return arrived.Await(1);
  };
  // Control: without the table the second datagram arrives.
  ASSERT_TRUE(world().writer().Remove().ok());
  ASSERT_EQ(send_twice("2001:db8:ee::3"), 1u);

  ASSERT_TRUE(world().Install(p).ok());
  EXPECT_EQ(send_twice("2001:db8:ee::1"), 1u);
}

}  // namespace
}  // namespace nmks::world
