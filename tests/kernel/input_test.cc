// Contract line 7, CVE-2019-14899: packets addressed to the tunnel's
// address that arrive on another interface are dropped (and counted as
// "spoofed"), so a hostile network cannot probe the tunnel's connections.
// Without the table the kernel (weak host model) would deliver them.
#include "tests/world/world.h"

namespace nmks::world {
namespace {

class InputTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    // The hostile router sends the tunnel's addresses to the client's eth0.
    world().router.Ip(
        "route add 192.0.2.2/32 via 198.51.100.2\n"
        "route add 2001:db8:2::2/128 via 2001:db8:1::2\n");
  }
  Status InstallWith(bool allow_lan, Ipv6Mode ipv6 = Ipv6Mode::kBlock) {
    Policy p = TunnelOnly();
    p.endpoints = {Unmarked("203.0.113.1:51820/udp"), Unmarked("[2001:db8:ff::1]:51820/udp")};
    p.allow_lan = allow_lan;
    p.ipv6 = ipv6;
    return world().Install(p);
  }
};

TEST_F(InputTest, TunnelAddressOnThePhysicalLinkIsDropped) {
  UdpSocket victim(world().client, kClientTun4, 7777);
  UdpSocket attacker(world().router, "203.0.113.5", 7777);
  // Control: without the kill switch the kernel takes them.
  EXPECT_EQ(attacker.SendTo(kClientTun4, 7777, 2), 0);
  ASSERT_EQ(victim.Receive(), 2) << "the world must reproduce the attack";

  ASSERT_TRUE(InstallWith(false).ok());
  EXPECT_EQ(attacker.SendTo(kClientTun4, 7777, 3), 0);
  EXPECT_EQ(victim.Receive(), 0);
  EXPECT_EQ(world().Stopped(Stop::kSpoofed), 3u);

  // Not even from the endpoint's own tuple, which is otherwise let in.
  UdpSocket endpoint(world().router, "203.0.113.1", 51820);
  EXPECT_EQ(endpoint.SendTo(kClientTun4, 7777, 2), 0);
  EXPECT_EQ(victim.Receive(), 0);
  EXPECT_EQ(world().Stopped(Stop::kSpoofed), 5u);

  // The same address through the tunnel is the tunnel's traffic.
  UdpSocket server(world().vpn, kVpnTun4, 7777);
  EXPECT_EQ(server.SendTo(kClientTun4, 7777, 2), 0);
  EXPECT_EQ(victim.Receive(), 2);
}

// The DHCP client's port is no way in either: a "server answer" from the
// LAN to the tunnel's address is dropped like anything else sent there.
TEST_F(InputTest, DhcpClientPortOnTheTunnelAddressIsDropped) {
  UdpSocket victim(world().client, kClientTun4, 68);
  UdpSocket attacker(world().router, "192.168.1.1", 67);
  ASSERT_TRUE(InstallWith(true).ok());
  EXPECT_EQ(attacker.SendTo(kClientTun4, 68, 3), 0);
  EXPECT_EQ(victim.Receive(), 0);
  EXPECT_EQ(world().Stopped(Stop::kSpoofed), 3u);
}

TEST_F(InputTest, StillDroppedWithAllowLanFromALanAddress) {
  UdpSocket victim(world().client, kClientTun4, 7777);
  UdpSocket attacker(world().router, "192.168.1.1", 7777);
  ASSERT_TRUE(InstallWith(true).ok());
  EXPECT_EQ(attacker.SendTo(kClientTun4, 7777, 3), 0);
  EXPECT_EQ(victim.Receive(), 0);
  EXPECT_EQ(world().Stopped(Stop::kSpoofed), 3u);
  // The LAN host may reach the client's own LAN-side address.
  UdpSocket lan_side(world().client, kClientEth4, 7778);
  EXPECT_EQ(attacker.SendTo(kClientEth4, 7778, 2), 0);
  EXPECT_EQ(lan_side.Receive(), 2);
}

TEST_F(InputTest, TunnelIpv6AddressOnThePhysicalLinkIsDropped) {
  UdpSocket victim(world().client, kClientTun6, 7777);
  UdpSocket attacker(world().router, kInternet6Endpoint, 51820);
  EXPECT_EQ(attacker.SendTo(kClientTun6, 7777, 2), 0);
  ASSERT_EQ(victim.Receive(), 2) << "the world must reproduce the attack";

  ASSERT_TRUE(InstallWith(true, Ipv6Mode::kTunnel).ok());
  EXPECT_EQ(attacker.SendTo(kClientTun6, 7777, 3), 0);
  EXPECT_EQ(victim.Receive(), 0);
  EXPECT_EQ(world().Stopped(Stop::kSpoofed), 3u);
}

}  // namespace
}  // namespace nmks::world
