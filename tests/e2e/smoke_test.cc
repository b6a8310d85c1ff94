// The first end-to-end test: a real NetworkManager imports a wg-quick file
// through our editor plugin, connects through our VPN service, and traffic
// flows through the tunnel with nothing leaking.
#include <string>

#include <gtest/gtest.h>

#include "tests/nmworld/nm_world.h"
#include "tests/world/world.h"

namespace nmks::nmworld {
namespace {

TEST(SmokeTest, ImportConnectAndNothingLeaks) {
  NMKS_REQUIRE_ROOT();
  Options o;
  o.build_dir = NMKS_BUILD_DIR;
  NmWorld w(o);
  w.ImportVpn();
  auto up = w.Up();
  ASSERT_TRUE(up.ok()) << up.output << w.Logs();
  ASSERT_TRUE(w.WaitTunnelFlows(50, 20)) << w.Logs();
  Counts start = w.Now();
  sleep(3);
  Counts end = w.Now();
  EXPECT_EQ(end.leaked, start.leaked) << w.Logs();
  EXPECT_GT(end.tunneled, start.tunneled + 100);
  auto status = w.Killswitch({"status"});
  EXPECT_NE(status.output.find("engaged"), std::string::npos) << status.output;
}

}  // namespace
}  // namespace nmks::nmworld
