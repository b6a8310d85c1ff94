// Contract line 6: traffic routed through this host (containers, VMs
// behind it) only goes into and comes out of the tunnel; forwarded out of
// the physical link it is dropped and counted.
#include <chrono>
#include <cstdint>
#include <string>

#include "tests/world/world.h"

namespace nmks::world {
namespace {

class ForwardTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    world().AddGuest();
    ASSERT_TRUE(world().Install(TunnelOnly()).ok());
  }
  const Netns& guest() { return world().AddGuest(); }
};

TEST_F(ForwardTest, GuestTrafficLeavesOnlyThroughTheTunnel) {
  Tally at_vpn(world().vpn, "ip saddr 203.0.113.130 ip daddr 203.0.113.99 udp dport 4500");
  Tally at_router(world().router, "ip saddr 203.0.113.130");

  // Around the tunnel: the guest's kernel sends, the client drops.
  EXPECT_EQ(Send(guest(), {.to = "203.0.113.99", .port = 4500, .count = 3}).error, 0);
  EXPECT_EQ(Send(guest(), {.protocol = Protocol::kTcp,
                           .to = "203.0.113.99",
                           .port = 4500,
                           .connect_wait = std::chrono::milliseconds(300)})
                .error,
            ETIMEDOUT);
  EXPECT_EQ(at_router.Await(0), 0u);
  EXPECT_GE(world().Stopped(Stop::kForwarded), 4u);

  world().RouteViaTunnel("203.0.113.99");
  EXPECT_EQ(Send(guest(), {.to = "203.0.113.99", .port = 4500, .count = 3}).error, 0);
  EXPECT_EQ(at_vpn.Await(3), 3u);
  EXPECT_EQ(at_router.Now(), 0u);
}

// Into the guest only replies come, and only through the tunnel: the VPN's
// side cannot open connections to machines behind this host.
TEST_F(ForwardTest, InboundToTheGuestOnlyRepliesThroughTheTunnel) {
  UdpSocket guest_socket(guest(), "0.0.0.0", 4501);
  UdpSocket at_vpn(world().vpn, kVpnTun4, 4501);
  uint64_t forwarded = world().Stopped(Stop::kForwarded);
  EXPECT_EQ(at_vpn.SendTo(kGuest4, 4501, 2), 0);
  EXPECT_EQ(guest_socket.Receive(), 0) << "unsolicited from the tunnel side";
  EXPECT_EQ(world().Stopped(Stop::kForwarded), forwarded + 2);

  EXPECT_EQ(guest_socket.SendTo(kVpnTun4, 4501, 1), 0);
  EXPECT_EQ(at_vpn.Receive(), 1);
  EXPECT_EQ(at_vpn.SendTo(kGuest4, 4501, 2), 0);
  EXPECT_EQ(guest_socket.Receive(), 2) << "replies to the guest";

  forwarded = world().Stopped(Stop::kForwarded);
  UdpSocket from_router(world().router, "203.0.113.20", 4501);
  EXPECT_EQ(from_router.SendTo(kGuest4, 4501, 2), 0);
  EXPECT_EQ(guest_socket.Receive(), 0);
  EXPECT_EQ(world().Stopped(Stop::kForwarded), forwarded + 2);
}

// The VPN's side cannot reach the LAN through this host either.
TEST_F(ForwardTest, TheTunnelSideCannotReachTheLanThroughTheHost) {
  guest();  // turns forwarding on, as Docker or libvirt would
  world().vpn.Ip("route add 192.168.1.0/24 via " + std::string(kClientTun4));
  Tally at_router(world().router, "ip daddr 192.168.1.20 udp dport 4502");
  UdpSocket from_vpn(world().vpn, kVpnTun4, 4502);
  uint64_t forwarded = world().Stopped(Stop::kForwarded);
  EXPECT_EQ(from_vpn.SendTo("192.168.1.20", 4502, 3), 0);
  EXPECT_EQ(at_router.Await(0), 0u);
  EXPECT_EQ(world().Stopped(Stop::kForwarded), forwarded + 3);
}

}  // namespace
}  // namespace nmks::world
