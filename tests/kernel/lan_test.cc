// Contract line 5: with allow-LAN on, private, link-local and multicast
// ranges are reachable outside the tunnel; with it off they are not.
// CGNAT (100.64.0.0/10) only with allow_cgnat too; IPv6 LAN only when the
// tunnel carries IPv6 (with ipv6=block all IPv6 beyond link housekeeping stays blocked).
#include <cstdint>
#include <string>

#include "tests/world/world.h"

namespace nmks::world {
namespace {

class LanTest : public KernelTest {
 protected:
  Status InstallLan(bool allow_lan, bool allow_cgnat = false, Ipv6Mode ipv6 = Ipv6Mode::kBlock) {
    Policy p = TunnelOnly();
    p.allow_lan = allow_lan;
    p.allow_cgnat = allow_cgnat;
    p.ipv6 = ipv6;
    return world().Install(p);
  }
  // How many of 2 UDP datagrams from an unprivileged sender to to:port
  // arrive at the router.
  uint64_t Arrive(const std::string& to, uint16_t port, bool broadcast = false) {
    bool v6 = to.find(':') != std::string::npos;
    std::string dest = to.substr(0, to.find('%'));
    Tally tally(world().router, std::string(v6 ? "ip6" : "ip") + " daddr " + dest + " udp dport " +
                                    std::to_string(port));
    ProbeResult r =
        Send(world().client, {.to = to, .port = port, .count = 2, .broadcast = broadcast});
    uint64_t seen = tally.Await(r.sent);
    EXPECT_EQ(r.error == 0 ? 2u : 0u, seen) << to << " error " << r.error;
    return seen;
  }
};

const char* const kPrivate4[] = {"10.1.0.1", "172.16.1.1", "192.168.1.20", "169.254.1.1"};

TEST_F(LanTest, PrivateIpv4OnlyWithAllowLan) {
  ASSERT_TRUE(InstallLan(false).ok());
  for (const char* to : kPrivate4) EXPECT_EQ(Arrive(to, 5000), 0u) << to;
  ASSERT_TRUE(InstallLan(true).ok());
  for (const char* to : kPrivate4) EXPECT_EQ(Arrive(to, 5000), 2u) << to;
  // A public address is still blocked with the LAN open.
  EXPECT_EQ(Arrive("203.0.113.99", 5000), 0u);
}

TEST_F(LanTest, CgnatOnlyWithAllowCgnat) {
  ASSERT_TRUE(InstallLan(true).ok());
  EXPECT_EQ(Arrive("100.64.0.1", 5001), 0u);
  ASSERT_TRUE(InstallLan(false, true).ok());
  EXPECT_EQ(Arrive("100.64.0.1", 5001), 0u);
  ASSERT_TRUE(InstallLan(true, true).ok());
  EXPECT_EQ(Arrive("100.64.0.1", 5001), 2u);
}

TEST_F(LanTest, MulticastAndBroadcastOnlyWithAllowLan) {
  ASSERT_TRUE(InstallLan(false).ok());
  EXPECT_EQ(Arrive("224.0.0.251", 5353), 0u);
  EXPECT_EQ(Arrive("255.255.255.255", 5002, true), 0u);
  ASSERT_TRUE(InstallLan(true).ok());
  EXPECT_EQ(Arrive("224.0.0.251", 5353), 2u);
  EXPECT_EQ(Arrive("255.255.255.255", 5002, true), 2u);
}

// IPv6 LAN (unique local, link-local, multicast) needs both allow-LAN and
// a tunnel that carries IPv6.
TEST_F(LanTest, Ipv6LanOnlyWithAllowLanAndIpv6Tunnel) {
  const char* const lan6[] = {"fd00:1::20", "fe80::1%eth0", "ff02::fb%eth0"};
  ASSERT_TRUE(InstallLan(true, false, Ipv6Mode::kBlock).ok());
  for (const char* to : lan6) EXPECT_EQ(Arrive(to, 5353), 0u) << to;
  ASSERT_TRUE(InstallLan(false, false, Ipv6Mode::kTunnel).ok());
  for (const char* to : lan6) EXPECT_EQ(Arrive(to, 5353), 0u) << to;
  ASSERT_TRUE(InstallLan(true, false, Ipv6Mode::kTunnel).ok());
  for (const char* to : lan6) EXPECT_EQ(Arrive(to, 5353), 2u) << to;
  EXPECT_EQ(Arrive("2001:db8:ff::99", 5353), 0u);
}

// Input: LAN hosts reach the client only with allow-LAN on.
TEST_F(LanTest, LanHostsComeInOnlyWithAllowLan) {
  UdpSocket client(world().client, "0.0.0.0", 40000);
  UdpSocket lan_host(world().router, "192.168.1.20", 5000);
  ASSERT_TRUE(InstallLan(false).ok());
  EXPECT_EQ(lan_host.SendTo(kClientEth4, 40000, 2), 0);
  EXPECT_EQ(client.Receive(), 0);
  ASSERT_TRUE(InstallLan(true).ok());
  EXPECT_EQ(lan_host.SendTo(kClientEth4, 40000, 2), 0);
  EXPECT_EQ(client.Receive(), 2);
  UdpSocket public_host(world().router, "203.0.113.20", 5000);
  EXPECT_EQ(public_host.SendTo(kClientEth4, 40000, 2), 0);
  EXPECT_EQ(client.Receive(), 0);

  UdpSocket client6(world().client, "::", 40000);
  UdpSocket lan_host6(world().router, "fe80::1%client0", 5000);
  EXPECT_EQ(lan_host6.SendTo(kClientEth6, 40000, 2), 0);
  EXPECT_EQ(client6.Receive(), 0) << "IPv6 LAN needs ipv6=tunnel";
  ASSERT_TRUE(InstallLan(true, false, Ipv6Mode::kTunnel).ok());
  EXPECT_EQ(lan_host6.SendTo(kClientEth6, 40000, 2), 0);
  EXPECT_EQ(client6.Receive(), 2);
}

// Input: LAN multicast (mDNS) comes in with allow-LAN, IPv4 and IPv6; the
// CVE-2019-14899 rule must not mistake it for spoofed traffic.
TEST_F(LanTest, LanMulticastComesInOnlyWithAllowLan) {
  UdpSocket client(world().client, "0.0.0.0", 5353);
  ASSERT_TRUE(client.Join("224.0.0.251", "eth0"));
  UdpSocket client6(world().client, "::", 5353);
  ASSERT_TRUE(client6.Join("ff02::fb", "eth0"));
  UdpSocket lan_host(world().router, "192.168.1.1", 5353);
  ASSERT_TRUE(lan_host.MulticastVia("client0"));
  UdpSocket lan_host6(world().router, "fe80::1%client0", 5353);

  ASSERT_TRUE(InstallLan(false, false, Ipv6Mode::kTunnel).ok());
  EXPECT_EQ(lan_host.SendTo("224.0.0.251", 5353, 2), 0);
  EXPECT_EQ(lan_host6.SendTo("ff02::fb%client0", 5353, 2), 0);
  EXPECT_EQ(client.Receive(), 0);
  EXPECT_EQ(client6.Receive(), 0);

  ASSERT_TRUE(InstallLan(true, false, Ipv6Mode::kTunnel).ok());
  EXPECT_EQ(lan_host.SendTo("224.0.0.251", 5353, 2), 0);
  EXPECT_EQ(lan_host6.SendTo("ff02::fb%client0", 5353, 2), 0);
  EXPECT_EQ(client.Receive(), 2);
  EXPECT_EQ(client6.Receive(), 2);
  EXPECT_EQ(world().Stopped(Stop::kSpoofed), 0u);
}

}  // namespace
}  // namespace nmks::world
