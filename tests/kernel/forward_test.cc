// Contract line 6: traffic routed through this host (containers, VMs
// behind it) only goes into and comes out of the tunnel; forwarded out of
// the physical link it is dropped and counted.
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

TEST_F(ForwardTest, InboundToTheGuestOnlyFromTheTunnel) {
  UdpSocket guest_socket(guest(), "0.0.0.0", 4501);
  UdpSocket from_vpn(world().vpn, kVpnTun4, 4501);
  EXPECT_EQ(from_vpn.SendTo(kGuest4, 4501, 2), 0);
  EXPECT_EQ(guest_socket.Receive(), 2);

  uint64_t forwarded = world().Stopped(Stop::kForwarded);
  UdpSocket from_router(world().router, "203.0.113.20", 4501);
  EXPECT_EQ(from_router.SendTo(kGuest4, 4501, 2), 0);
  EXPECT_EQ(guest_socket.Receive(), 0);
  EXPECT_EQ(world().Stopped(Stop::kForwarded), forwarded + 2);
}

}  // namespace
}  // namespace nmks::world
