// `nm-killswitch verify`, the self-test a user runs, against the real
// thing: it passes (exit 0, "nothing got out") while the VPN is connected,
// while the tunnel is up but its server is gone, and after a lockdown
// disconnect; and its probes themselves never reach the router.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/e2e/e2e.h"

namespace nmks::nmworld {
namespace {

constexpr char kNothingGotOut[] = "Result: nothing got out. The kill switch works.";

class VerifyTest : public ConnectedTest {
 protected:
  void ExpectVerifyPasses() {
    auto verify = w().Killswitch({"verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.output;
    EXPECT_TRUE(Contains(verify.output, kNothingGotOut)) << verify.output;
    EXPECT_FALSE(Contains(verify.output, "GOT OUT")) << verify.output;
    // It probed eth0, the resolver and the VPN server's endpoint.
    EXPECT_TRUE(Contains(verify.output, "eth0")) << verify.output;
    EXPECT_TRUE(Contains(verify.output, std::string(kDns4) + ":53")) << verify.output;
    EXPECT_TRUE(Contains(verify.output, std::string(kServer4) + ":51820")) << verify.output;
  }
};

TEST_F(VerifyTest, PassesWhileConnected) {
  ExpectVerifyPasses();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 10)) << w().Logs();
}

TEST_F(VerifyTest, PassesWhileTheServerIsGone) {
  w().ServerDown();
  sleep(2);
  uint64_t tunneled = w().Now().tunneled;
  ExpectVerifyPasses();
  EXPECT_EQ(w().Now().tunneled, tunneled);  // the tunnel is up, but dead
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  w().ServerUp();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 30)) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

class VerifyLockdownTest : public VerifyTest {
  void Configure(Options& o) override { o.kill_switch = "lockdown"; }
};

TEST_F(VerifyLockdownTest, PassesAfterALockdownDisconnect) {
  auto down = w().Down();
  ASSERT_TRUE(down.ok()) << down.output;
  sleep(1);
  ExpectVerifyPasses();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

}  // namespace
}  // namespace nmks::nmworld
