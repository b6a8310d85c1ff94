// vpn.persistent=yes without connection.secondaries (NetworkManager 1.42
// cannot combine the two; see nm_world.h): the plugin reports can-persist,
// so when the cable is pulled for 10 s, longer than NetworkManager's 6 s
// carrier grace, the VPN stays active with its tunnel, the same activation
// and the same plugin process, blocked all along; when the cable is back
// the LAN comes up again and traffic goes through the tunnel, nothing
// having leaked.
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/e2e/e2e.h"

namespace nmks::nmworld {
namespace {

class PersistentTest : public ConnectedTest {
  void Configure(Options& o) override {
    o.persistent = true;
    o.secondary = false;
  }
};

TEST_F(PersistentTest, CablePulledTenSecondsTheVpnStays) {
  auto plugin = w().PluginPids();
  ASSERT_EQ(plugin.size(), 1u);
  std::string path = w().Nmcli({"-g", "GENERAL.DBUS-PATH", "connection", "show", "wg0"}).output;
  ASSERT_FALSE(path.empty());

  w().LinkDown();
  sleep(8);  // past NetworkManager's carrier grace: the LAN is gone
  auto active = w().Nmcli({"-t", "-f", "NAME,STATE", "connection", "show", "--active"});
  EXPECT_FALSE(Contains(active.output, "lan:activated")) << active.output;
  EXPECT_TRUE(Contains(active.output, "wg0:activated")) << active.output;
  sleep(2);
  w().LinkUp();
  EXPECT_TRUE(w().WaitLanActive(30)) << w().Logs();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 40)) << w().Logs();
  EXPECT_TRUE(w().WaitVpnActive(1)) << w().Logs();
  // The same activation, served by the same plugin all along.
  EXPECT_EQ(w().Nmcli({"-g", "GENERAL.DBUS-PATH", "connection", "show", "wg0"}).output, path);
  EXPECT_EQ(w().PluginPids(), plugin);
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

}  // namespace
}  // namespace nmks::nmworld
