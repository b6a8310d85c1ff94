// Odd vpn.data: an item the plugin does not know, or a value it cannot
// read, written with nmcli as a user would. `nmcli connection up` fails,
// the plugin's message names the item, and the kill switch stays exactly
// as it was: nothing engaged when nothing was, still blocking when it was.
//
// NetworkManager 1.42 does not pass a VPN service's error text on to the
// client: nmcli says "The VPN service failed to start" and points at the
// journal (`journalctl -xe NM_CONNECTION=<uuid>`), where NetworkManager
// logs "failed to connect: '<our message>'". In the world the journal is
// NetworkManager's log file, so that is where the message is looked for.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/e2e/e2e.h"

namespace nmks::nmworld {
namespace {

struct OddItem {
  const char* item;                  // as `nmcli connection modify wg0 +vpn.data ITEM`
  const char* message;               // what the plugin's error says
  std::vector<std::string> restore;  // the `nmcli connection modify wg0` arguments that undo it
};

const OddItem kOddItems[] = {
    {"foo=bar", "vpn.data has an unknown item foo", {"-vpn.data", "foo"}},
    {"kill-switch=maybe",
     "vpn.data kill-switch: \"maybe\" must be on, lockdown or off",
     {"+vpn.data", "kill-switch=on"}},
    {"peer.0.endpoint=203.0.113.1",
     "vpn.data peer.0.endpoint: \"203.0.113.1\" has no port",
     {"+vpn.data", "peer.0.endpoint=203.0.113.1:51820"}},
    {"mtu=12", "vpn.data mtu: MTU \"12\" is not a number", {"-vpn.data", "mtu"}},
    {"peer.1.allowed-ips=0.0.0.0/0", "vpn.data has no peer.1.public-key", {"-vpn.data",
                                                                            "peer.1.allowed-ips"}},
};

// Sets `odd` on wg0, tries to bring it up, and checks how that failed.
void UpFailsNamingTheItem(NmWorld& w, const OddItem& odd) {
  auto modify = w.Nmcli({"connection", "modify", "wg0", "+vpn.data", odd.item});
  ASSERT_TRUE(modify.ok()) << modify.output;
  auto up = w.Up();
  EXPECT_FALSE(up.ok()) << up.output;
  EXPECT_TRUE(Contains(up.output, "The VPN service failed to start")) << up.output;
  EXPECT_TRUE(Contains(up.output, "NM_CONNECTION=" + w.VpnUuid())) << up.output;
  EXPECT_TRUE(Contains(w.NmLog(), "failed to connect: '" + std::string(odd.message)))
      << w.Logs();
  std::vector<std::string> restore = {"connection", "modify", "wg0"};
  restore.insert(restore.end(), odd.restore.begin(), odd.restore.end());
  auto undo = w.Nmcli(restore);
  ASSERT_TRUE(undo.ok()) << undo.output;
}

TEST(OddDataTest, UpFailsNamingTheItemAndEngagesNothing) {
  NMKS_REQUIRE_ROOT();
  NmWorld w(BuildOptions());
  w.ImportVpn();
  for (const OddItem& odd : kOddItems) {
    SCOPED_TRACE(odd.item);
    UpFailsNamingTheItem(w, odd);
    EXPECT_FALSE(w.TableInKernel());
    auto status = w.Killswitch({"status"});
    EXPECT_TRUE(Contains(status.output, kNotEngaged)) << status.output;
  }
  // The profile is good again, and comes up.
  auto up = w.Up();
  ASSERT_TRUE(up.ok()) << up.output << w.Logs();
  EXPECT_TRUE(w.WaitTunnelFlows(50, 20)) << w.Logs();
}

class OddDataLockdownTest : public ConnectedTest {
  void Configure(Options& o) override { o.kill_switch = "lockdown"; }
};

// Engaged from an earlier session: a failed activation changes nothing.
TEST_F(OddDataLockdownTest, UpFailsAndTheKillSwitchKeepsBlocking) {
  auto down = w().Down();
  ASSERT_TRUE(down.ok()) << down.output;
  std::string before = w().Killswitch({"status", "--json"}).output;
  for (const OddItem& odd : kOddItems) {
    SCOPED_TRACE(odd.item);
    UpFailsNamingTheItem(w(), odd);
    auto status = w().Killswitch({"status"});
    EXPECT_TRUE(Contains(status.output, kEngaged)) << status.output;
    EXPECT_TRUE(Contains(status.output, w().VpnUuid())) << status.output;
    EXPECT_TRUE(Contains(status.output, "mode: lockdown")) << status.output;
  }
  // The same engagement as before (the counters aside).
  std::string after = w().Killswitch({"status", "--json"}).output;
  auto connections = [](const std::string& json) {
    size_t at = json.find("\"connections\"");
    return at == std::string::npos ? "" : json.substr(at, json.find("\"boot-connections\"") - at);
  };
  EXPECT_TRUE(Contains(connections(before), w().VpnUuid())) << before;
  EXPECT_EQ(connections(after), connections(before));
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  // The profile is good again, and comes up through the kill switch.
  auto up = w().Up();
  ASSERT_TRUE(up.ok()) << up.output << w().Logs();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 20)) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
}

}  // namespace
}  // namespace nmks::nmworld
