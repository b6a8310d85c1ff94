// Loop prevention (output): a packet that carries our tunnel's fwmark is
// the tunnel's own encrypted traffic; routed into a tunnel it would loop
// (or leak through another tunnel), so it is dropped and counted.
#include "tests/world/world.h"

namespace nmks::world {
namespace {

class LoopTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    Policy p = TunnelOnly();
    p.endpoints = {Marked("203.0.113.1:51820/udp")};
    ASSERT_TRUE(world().Install(p).ok());
  }
};

TEST_F(LoopTest, MarkedPacketIntoTheTunnelIsDropped) {
  world().RouteViaTunnel("203.0.113.99");
  Tally at_vpn(world().vpn, "ip daddr 203.0.113.99 udp dport 4300");
  ProbeResult marked = Send(
      world().client,
      {.to = "203.0.113.99", .port = 4300, .count = 3, .user = User::kRoot, .mark = kDefaultMark});
  EXPECT_EQ(marked.error, EPERM);
  EXPECT_EQ(at_vpn.Await(0), 0u);
  EXPECT_EQ(world().Stopped(Stop::kLoop), 3u);

  // The same packet without the mark is ordinary tunnel traffic.
  ProbeResult plain = Send(world().client, {.to = "203.0.113.99", .port = 4300, .count = 3});
  EXPECT_EQ(plain.error, 0);
  EXPECT_EQ(at_vpn.Await(3), 3u);
}

// The classic loop: the route to the endpoint itself points into the
// tunnel. The tunnel's packets to its server go nowhere, neither side.
TEST_F(LoopTest, EndpointRoutedIntoTheTunnelGoesNowhere) {
  world().RouteViaTunnel("203.0.113.1");
  Tally at_vpn(world().vpn, "ip daddr 203.0.113.1 udp dport 51820");
  Tally at_router(world().router, "ip daddr 203.0.113.1 udp dport 51820");
  ProbeResult r = Send(
      world().client,
      {.to = "203.0.113.1", .port = 51820, .count = 3, .user = User::kRoot, .mark = kDefaultMark});
  EXPECT_EQ(r.error, EPERM);
  EXPECT_EQ(at_vpn.Await(0), 0u);
  EXPECT_EQ(at_router.Now(), 0u);
  EXPECT_EQ(world().Stopped(Stop::kLoop), 3u);
}

}  // namespace
}  // namespace nmks::world
