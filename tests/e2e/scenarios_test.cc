// The honest test, scenario by scenario: with traffic running all the time
// (UDP, TCP and DNS from nobody, IPv4 and IPv6), break something, count at
// the router every packet the client sends outside the VPN's encrypted
// flow (must stay 0), and check that traffic goes through the tunnel again
// afterwards.
#include <cstdint>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/e2e/e2e.h"

namespace nmks::nmworld {
namespace {

class ScenarioTest : public ConnectedTest {};

TEST_F(ScenarioTest, ServerGoneTenSecondsAndBack) {
  w().ServerDown();
  sleep(10);
  w().ServerUp();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 30)) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

TEST_F(ScenarioTest, LinkDownTenSecondsThenUp) {
  w().LinkDown();
  sleep(10);
  w().LinkUp();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 40)) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

TEST_F(ScenarioTest, ClientAddressChanges) {
  w().MoveClientAddress();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 30)) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

TEST_F(ScenarioTest, WireguardGoKilled) {
  ASSERT_TRUE(w().KillWireguardGo());
  EXPECT_TRUE(w().WaitTunnelFlows(50, 30)) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

TEST_F(ScenarioTest, UserDisconnectReleases) {
  auto down = w().Down();
  ASSERT_TRUE(down.ok()) << down.output;
  // Released (the plugin may release after nmcli has returned): traffic flows
  // directly, outside the tunnel.
  auto status = StatusOnceItSays(w(), kNotEngaged, 10);
  EXPECT_TRUE(Contains(status.output, kNotEngaged)) << status.output << w().Logs();
  EXPECT_TRUE(FlowsDirectly(50, 5)) << w().Logs();
}

class LockdownTest : public ScenarioTest {
  void Configure(Options& o) override { o.kill_switch = "lockdown"; }
};

TEST_F(LockdownTest, UserDisconnectKeepsBlocking) {
  auto down = w().Down();
  ASSERT_TRUE(down.ok()) << down.output;
  sleep(3);
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

TEST_F(ScenarioTest, NetworkManagerStoppedAndStarted) {
  w().StopNetworkManager();
  sleep(3);
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  w().StartNetworkManager();
  EXPECT_TRUE(w().WaitVpnActive(60)) << w().Logs();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 30)) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

TEST_F(ScenarioTest, PluginKilled) {
  ASSERT_TRUE(w().KillPlugin());
  sleep(3);
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  auto up = w().Up();
  ASSERT_TRUE(up.ok()) << up.output << w().Logs();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 30)) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

TEST_F(ScenarioTest, GuardKilled) {
  w().KillGuard();
  sleep(2);
  EXPECT_TRUE(w().WaitTunnelFlows(50, 10)) << w().Logs();
  w().StartGuard();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 10)) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

}  // namespace
}  // namespace nmks::nmworld
