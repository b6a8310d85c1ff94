// block-at-boot across a reboot of the client. The connection with
// vpn.data block-at-boot=yes is connected once, so the guard writes the
// boot file. Then the machine goes down and comes back with a fresh network
// namespace, fresh /run and a fresh NetworkManager mount namespace (the
// profiles, /var/lib/NetworkManager and the boot file stay), and boot goes
// as the systemd units order it: nm-killswitch-boot.service loads the boot
// ruleset, programs start sending, the guard takes the table over, and
// NetworkManager brings up the LAN, whose connection.secondaries brings up
// the VPN (NetworkManager 1.42 does not autoconnect a VPN by itself). Not
// one packet gets out at any time, and traffic goes through the tunnel once
// the VPN is up.
//
// The control: the same reboot without the boot ruleset leaks in the
// moment between the LAN's addresses and the VPN's engagement, which is
// the window block-at-boot closes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/e2e/e2e.h"

namespace nmks::nmworld {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Connects the block-at-boot VPN once, and reboots the client; `uuid` gets
// the VPN's.
void ConnectOnceAndReboot(NmWorld& w, std::string* uuid) {
  w.ImportVpn();
  auto up = w.Up();
  ASSERT_TRUE(up.ok()) << up.output << w.Logs();
  ASSERT_TRUE(w.WaitTunnelFlows(50, 20)) << w.Logs();
  std::string boot = ReadFile(w.BootFile());
  ASSERT_TRUE(Contains(boot, "# policy:")) << boot;
  *uuid = w.VpnUuid();
  ASSERT_TRUE(Contains(boot, *uuid)) << boot;
  w.PowerCycleClient();
  ASSERT_FALSE(w.TableInKernel());
}

Options BlockAtBoot() {
  Options o = BuildOptions();
  o.block_at_boot = true;
  return o;
}

TEST(BootTest, BlockAtBootHoldsUntilTheVpnIsUpAgain) {
  NMKS_REQUIRE_ROOT();
  NmWorld w(BlockAtBoot());
  std::string uuid;
  ASSERT_NO_FATAL_FAILURE(ConnectOnceAndReboot(w, &uuid));
  const Counts off = w.Now();

  // nm-killswitch-boot.service, before anything else.
  auto load = w.LoadBootRuleset();
  ASSERT_TRUE(load.ok()) << load.output;
  EXPECT_TRUE(Contains(load.output, "boot ruleset loaded")) << load.output;
  ASSERT_TRUE(w.TableInKernel());
  w.StartTraffic();
  sleep(2);
  EXPECT_EQ(w.Now().leaked, off.leaked) << w.Logs();

  // The guard adopts the boot table: engaged, for the VPN's connection.
  w.StartGuard();
  auto status = w.Killswitch({"status"});
  EXPECT_TRUE(Contains(status.output, kEngaged)) << status.output;
  EXPECT_TRUE(Contains(status.output, "Blocked at boot for: " + uuid)) << status.output;
  EXPECT_EQ(w.Now().leaked, off.leaked) << w.Logs();

  // NetworkManager: the LAN, and with it the VPN.
  w.StartNetworkManager();
  EXPECT_TRUE(w.WaitVpnActive(60)) << w.Logs();
  EXPECT_TRUE(w.WaitTunnelFlows(50, 30)) << w.Logs();
  sleep(1);
  EXPECT_EQ(w.Now().leaked, off.leaked) << w.Logs();
  status = w.Killswitch({"status"});
  EXPECT_TRUE(Contains(status.output, kEngaged)) << status.output;
}

// The VPN server by name: the name resolved when the VPN first came up, but
// at boot the kill switch itself keeps DNS from getting out, so the plugin
// connects to the addresses the boot ruleset already allows for it.
TEST(BootTest, BlockAtBootWithAServerNameThatCannotBeResolvedAtBoot) {
  NMKS_REQUIRE_ROOT();
  Options o = BlockAtBoot();
  o.endpoint_host = "vpn.example.net";
  NmWorld w(o);
  std::string uuid;
  ASSERT_NO_FATAL_FAILURE(ConnectOnceAndReboot(w, &uuid));
  const Counts off = w.Now();
  auto load = w.LoadBootRuleset();
  ASSERT_TRUE(load.ok()) << load.output;
  w.StartTraffic();
  w.StartGuard();
  w.StartNetworkManager();
  EXPECT_TRUE(w.WaitVpnActive(60)) << w.Logs();
  EXPECT_TRUE(w.WaitTunnelFlows(50, 30)) << w.Logs();
  sleep(1);
  EXPECT_EQ(w.Now().leaked, off.leaked) << w.Logs();
  EXPECT_TRUE(Contains(w.NmLog(), "vpn.example.net does not resolve")) << w.Logs();
  EXPECT_TRUE(Contains(w.NmLog(), "using the 1 address(es) the kill switch already allows for it"))
      << w.Logs();
}

TEST(BootTest, ControlWithoutTheBootRulesetTheSameBootLeaks) {
  NMKS_REQUIRE_ROOT();
  NmWorld w(BlockAtBoot());
  std::string uuid;
  ASSERT_NO_FATAL_FAILURE(ConnectOnceAndReboot(w, &uuid));
  const Counts off = w.Now();
  w.StartTraffic();
  w.StartGuard();
  w.StartNetworkManager();
  EXPECT_TRUE(w.WaitVpnActive(60)) << w.Logs();
  EXPECT_TRUE(w.WaitTunnelFlows(50, 30)) << w.Logs();
  // What got out between the LAN's addresses and the VPN's engagement.
  const uint64_t leaked = w.Now().leaked - off.leaked;
  std::printf("[ boot without the boot ruleset ] %llu packets got out before the VPN engaged\n",
              static_cast<unsigned long long>(leaked));
  EXPECT_GT(leaked, 0u);
}

}  // namespace
}  // namespace nmks::nmworld
