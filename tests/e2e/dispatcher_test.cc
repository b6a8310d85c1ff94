// The dispatcher hook with a real NetworkManager, a real nm-dispatcher, the
// real network-manager-openvpn and a real OpenVPN server: the honest test.
// With traffic running all the time, break things and count at the router
// every packet the client sends outside its OpenVPN flow, from the moment
// the kill switch engaged (must stay 0); check that traffic comes back
// through the tunnel. Also: the window before NetworkManager tells the
// hook (measured, and closed by lockdown), bad connections and garbled
// calls, and our own VPN type left alone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tests/nmworld/openvpn_world.h"
#include "tests/world/packets.h"
#include "tests/world/world.h"

namespace nmks::nmworld {
namespace {

using testing::HasSubstr;
using testing::Not;
using world::CommandResult;

// The guard's status as JSON, from this build's nm-killswitch.
std::string Status(OpenVpnWorld& w) { return w.Killswitch({"status", "--json"}).output; }

bool Engaged(OpenVpnWorld& w) { return Status(w).find(kOpenVpnUuid) != std::string::npos; }

class DispatcherTest : public testing::Test {
 protected:
  void SetUp() override {
    NMKS_REQUIRE_ROOT();
    OpenVpnOptions o;
    o.build_dir = NMKS_BUILD_DIR;
    Configure(o);
    world_ = std::make_unique<OpenVpnWorld>(o);
  }
  void TearDown() override {
    if (HasFailure() && world_) std::printf("%s\n", world_->OpenVpnLogs().c_str());
  }
  virtual void Configure(OpenVpnOptions&) {}
  OpenVpnWorld& w() { return *world_; }

  void Enable(const std::vector<std::string>& options = {}) {
    std::vector<std::string> args = {"enable", kOpenVpnName};
    args.insert(args.end(), options.begin(), options.end());
    CommandResult r = w().Enable(args);
    ASSERT_TRUE(r.ok()) << r.output;
    ASSERT_THAT(r.output, HasSubstr("Kill switch enabled for \"ovpn\" (OpenVPN)"));
  }
  // Brings the VPN up and waits for traffic through the tunnel; from here
  // on every packet at the router outside the OpenVPN flow is a leak.
  void UpAndFlowing() {
    CommandResult up = w().UpVpn();
    ASSERT_TRUE(up.ok()) << up.output;
    ASSERT_TRUE(Engaged(w())) << Status(w());
    start_ = w().Now();
    ASSERT_TRUE(w().WaitTunnelFlows(50, 30));
  }
  uint64_t Leaked() { return w().Now().leaked - start_.leaked; }

  std::unique_ptr<OpenVpnWorld> world_;
  Counts start_;
};

TEST_F(DispatcherTest, EngagesAtVpnPreUpAndTheWindowIsMeasured) {
  Enable();
  w().StartWindowCapture();
  auto t0 = std::chrono::steady_clock::now();
  UpAndFlowing();
  double up_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                     .count();
  Window win = w().WindowSeen();
  ASSERT_TRUE(win.measured) << "no OpenVPN packet or no engagement seen";
  std::printf(
      "window: the kill switch engaged %.0f ms after the OpenVPN client's first packet; before "
      "it, %llu packets went to the OpenVPN server and %llu other packets left the client "
      "unprotected (traffic at 50/s per flow); nmcli up took %.0f ms\n",
      win.ms(), static_cast<unsigned long long>(win.to_server),
      static_cast<unsigned long long>(win.other), up_ms);
  EXPECT_GT(win.ms(), 0);
  EXPECT_LT(win.ms(), 10000);

  std::string status = Status(w());
  EXPECT_THAT(status, HasSubstr("\"tun0\""));
  EXPECT_THAT(status, HasSubstr("203.0.113.1"));
  EXPECT_THAT(status, HasSubstr("1194"));
  std::string log = w().HookLog();
  EXPECT_THAT(log, HasSubstr("\"ovpn\" (" + std::string(kOpenVpnUuid) +
                             "): kill switch engaged (on): tunnel tun0, 1 endpoint(s)"));
  sleep(3);
  EXPECT_EQ(Leaked(), 0u);
}

TEST_F(DispatcherTest, ServerGoneTenSecondsAndBack) {
  Enable();
  UpAndFlowing();
  w().ServerDown();
  sleep(10);
  w().ServerUp();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 40));
  EXPECT_EQ(Leaked(), 0u);
}

TEST_F(DispatcherTest, LinkDownTenSecondsThenUp) {
  Enable();
  UpAndFlowing();
  w().LinkDown();
  sleep(10);  // longer than NetworkManager's 6 s carrier grace: the VPN goes down
  EXPECT_EQ(Leaked(), 0u);
  EXPECT_TRUE(Engaged(w())) << "vpn-down without vpn-pre-down keeps the kill switch";
  w().LinkUp();
  EXPECT_TRUE(w().WaitOpenVpnActive(60));
  EXPECT_TRUE(w().WaitTunnelFlows(50, 40));
  EXPECT_EQ(Leaked(), 0u);
}

TEST_F(DispatcherTest, ClientAddressChanges) {
  Enable();
  UpAndFlowing();
  w().MoveClientAddress();
  EXPECT_TRUE(w().WaitTunnelFlows(50, 40));
  EXPECT_EQ(Leaked(), 0u);
}

TEST_F(DispatcherTest, OpenVpnClientKilled) {
  Enable();
  UpAndFlowing();
  ASSERT_TRUE(w().KillOpenVpnClient());
  sleep(3);
  EXPECT_EQ(Leaked(), 0u);
  EXPECT_TRUE(Engaged(w()));
  CommandResult up = w().UpVpn();
  ASSERT_TRUE(up.ok()) << up.output;
  EXPECT_TRUE(w().WaitTunnelFlows(50, 30));
  EXPECT_EQ(Leaked(), 0u);
}

TEST_F(DispatcherTest, NetworkManagerStoppedAndStarted) {
  Enable();
  UpAndFlowing();
  w().StopNetworkManager();
  sleep(3);
  EXPECT_EQ(Leaked(), 0u);
  EXPECT_TRUE(Engaged(w()));
  w().StartNetworkManager();
  EXPECT_TRUE(w().WaitOpenVpnActive(60));
  EXPECT_TRUE(w().WaitTunnelFlows(50, 30));
  EXPECT_EQ(Leaked(), 0u);
}

TEST_F(DispatcherTest, DnsAndIpv6LeakAttemptsGetNowhere) {
  Enable();
  UpAndFlowing();
  using world::Probe;
  const Probe attempts[] = {
      {.protocol = Protocol::kUdp, .to = "198.51.100.1", .port = 53, .count = 5},  // LAN resolver
      {.protocol = Protocol::kUdp, .to = kDns4, .port = 53, .count = 5, .device = "eth0"},
      {.protocol = Protocol::kTcp, .to = kDns4, .port = 53, .device = "eth0"},
      {.protocol = Protocol::kUdp, .to = "2001:db8:100::1", .port = 53, .count = 5},
      {.protocol = Protocol::kUdp, .to = kWeb6, .port = 9, .count = 5, .device = "eth0"},
      {.protocol = Protocol::kTcp, .to = kWeb6, .port = 443, .device = "eth0"},
      {.protocol = Protocol::kUdp, .to = kWeb4, .port = 9, .count = 5, .device = "eth0"},
  };
  for (const Probe& p : attempts) {
    world::ProbeResult r = world::Send(w().client, p);
    EXPECT_EQ(r.sent, 0) << "to " << p.to << ":" << p.port << " via " << p.device;
  }
  sleep(1);
  EXPECT_EQ(Leaked(), 0u);
  // The same through the tunnel works: IPv6 too (the server pushes it).
  world::ProbeResult v6 =
      world::Send(w().client, {.protocol = Protocol::kUdp, .to = kWeb6, .port = 9, .count = 3});
  EXPECT_EQ(v6.sent, 3) << "IPv6 through the tunnel is allowed";
  EXPECT_THAT(Status(w()), HasSubstr("\"ipv6\":\"tunnel\""));
}

TEST_F(DispatcherTest, UserDisconnectInModeOnReleases) {
  Enable();
  UpAndFlowing();
  CommandResult down = w().DownVpn();
  ASSERT_TRUE(down.ok()) << down.output;
  // Looked at again until released, as a user would (within 10 s).
  bool released = !Engaged(w());
  for (int i = 0; i < 100 && !released; ++i) {
    usleep(100000);
    released = !Engaged(w());
  }
  EXPECT_TRUE(released) << Status(w());
  uint64_t before = w().Now().leaked;
  sleep(2);
  EXPECT_GT(w().Now().leaked, before + 50) << "released: traffic flows directly again";
  EXPECT_THAT(w().HookLog(), HasSubstr("was switched off: kill switch released"));
}

// The kill-switch table as `nft list` shows it, without the counters
// (traffic keeps counting): `nft -s` leaves stateful values out.
std::string TableText(OpenVpnWorld& w) {
  CommandResult r = w.client.Run({"nft", "-s", "list", "table", "inet", "nm-killswitch"});
  if (!r.ok()) return "(no table: " + r.output + ")";
  return r.output;
}

// The hook's 20 s limit. A guard that holds its name but never answers
// costs the hook only its 5 s call timeout; what no timeout of the hook's
// covers is D-Bus activation: a call to a guard that is not running asks the
// bus to start it, and the bus waits 25 s for the program to take the name.
// The stand-in here never does, as a guard that hangs as it starts would.
TEST_F(DispatcherTest, AGuardThatNeverAnswersHoldsNetworkManagerTwentySecondsAtMost) {
  Enable();
  UpAndFlowing();
  // The guard's bus name takes the call and never answers; the user
  // switches the VPN off, which would release the kill switch.
  w().HangGuardName();
  const std::string table = TableText(w());  // (no owner now: the guard is gone)
  ASSERT_THAT(table, HasSubstr("elements = { \"tun0\" }"));
  auto t0 = std::chrono::steady_clock::now();
  // (nmcli would stop waiting after 10 s by itself.)
  CommandResult down = w().Nmcli({"--wait", "60", "connection", "down", kOpenVpnName});
  double held_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(down.ok()) << down.output;
  std::printf("nmcli connection down with the guard's name hanging: %.1f s\n", held_s);
  // The hook gave up at its 20 s limit, said so, and failed; NetworkManager
  // went on then, not later.
  EXPECT_GE(held_s, 19.5);
  EXPECT_LT(held_s, 23.0);
  EXPECT_THAT(w().HookLog(),
              HasSubstr("nm-killswitch-dispatcher: gave up after 20 s so as not to hold "
                        "NetworkManager up; the kill switch is as it was"));
  EXPECT_THAT(w().HookLog(), Not(HasSubstr("kill switch released")));
  std::ifstream dispatcher_log(w().dir() + "/nm-dispatcher.log");
  std::stringstream dispatcher;
  dispatcher << dispatcher_log.rdbuf();
  EXPECT_THAT(dispatcher.str(), HasSubstr("pre-down.d/90-nm-killswitch' exited with status 1"));
  // Fail closed: the table is the one engaged before, and nothing leaks.
  EXPECT_EQ(TableText(w()), table);
  EXPECT_EQ(Leaked(), 0u) << "traffic ran all the while";
}

TEST_F(DispatcherTest, LockdownKeepsBlockingAndClosesTheWindowOnReconnect) {
  Enable({"--mode", "lockdown"});
  UpAndFlowing();
  CommandResult down = w().DownVpn();
  ASSERT_TRUE(down.ok()) << down.output;
  sleep(3);
  EXPECT_TRUE(Engaged(w()));
  EXPECT_EQ(Leaked(), 0u);
  EXPECT_THAT(w().HookLog(), HasSubstr("in lockdown the kill switch stays engaged"));
  // The table is in place before the VPN starts: no window at all.
  uint64_t before_server = w().ToServer();
  CommandResult up = w().UpVpn();
  ASSERT_TRUE(up.ok()) << up.output;
  EXPECT_TRUE(w().WaitTunnelFlows(50, 30));
  EXPECT_GT(w().ToServer(), before_server) << "the VPN reached its server through the table";
  EXPECT_EQ(Leaked(), 0u) << "nothing got out while the VPN reconnected";
  // Only an administrator lets traffic out again.
  ASSERT_TRUE(w().DownVpn().ok());
  CommandResult release = w().Killswitch({"release", "--connection", kOpenVpnUuid});
  EXPECT_TRUE(release.ok()) << release.output;
  EXPECT_FALSE(Engaged(w()));
}

TEST_F(DispatcherTest, BlockAtBootAndAllowLanGoToTheGuard) {
  Enable({"--block-at-boot", "--allow-lan"});
  UpAndFlowing();
  std::string status = Status(w());
  EXPECT_THAT(status, HasSubstr("\"allow-lan\":true"));
  size_t boot = status.find("\"boot-connections\"");
  ASSERT_NE(boot, std::string::npos) << status;
  EXPECT_NE(status.find(kOpenVpnUuid, boot), std::string::npos) << status;
  // DNS stays blocked with the LAN allowed (the LAN ranges themselves are
  // proven by the kernel tests; this world's LAN is a documentation range).
  EXPECT_EQ(world::Send(w().client, {.protocol = Protocol::kUdp, .to = "198.51.100.1", .port = 53})
                .sent,
            0);
  CommandResult off = w().Killswitch({"disable", kOpenVpnName});
  EXPECT_TRUE(off.ok()) << off.output;
  EXPECT_THAT(off.output, HasSubstr("no longer blocked at boot"));
}

// ------------------------------------------------------------ bad input

class BadRemotesTest : public DispatcherTest {
  void Configure(OpenVpnOptions& o) override {
    // network-manager-openvpn skips what it cannot parse and so does the
    // hook; a name that does not resolve opens nothing.
    o.data["remote"] =
        "203.0.113.1:99999, ,203.0.113.1:1194:sctp :1194 gone.invalid:1195 " +
        std::string(kOpenVpnHost) + ":1194:udp";
  }
};

TEST_F(BadRemotesTest, OnlyWhatTheClientUsesAndWhatResolvesIsAllowed) {
  Enable();
  UpAndFlowing();
  std::string status = Status(w());
  EXPECT_THAT(status, HasSubstr("203.0.113.1"));
  EXPECT_THAT(status, Not(HasSubstr("1195")));
  EXPECT_THAT(status, Not(HasSubstr("99999")));
  std::string log = w().HookLog();
  EXPECT_THAT(log, HasSubstr("remote \"203.0.113.1:99999\" is skipped"));
  EXPECT_THAT(log, HasSubstr("VPN server gone.invalid (port 1195/udp)"));
  EXPECT_THAT(log, HasSubstr("kill switch engaged (on): tunnel tun0, 1 endpoint(s)"));
  sleep(2);
  EXPECT_EQ(Leaked(), 0u);
}

class BadUserDataTest : public DispatcherTest {
  // nmcli 1.42 does not let anyone edit user.data of a VPN connection; the
  // connection file can (and so can any libnm program).
  void Configure(OpenVpnOptions& o) override {
    o.user_data = {{"nm-killswitch.mode", "sometimes"}, {"nm-killswitch.allow-lan", "yes"}};
  }
};

TEST_F(BadUserDataTest, BadUserDataEngagesInLockdown) {
  UpAndFlowing();
  EXPECT_THAT(Status(w()), HasSubstr("\"allow-lan\":false"));
  EXPECT_THAT(Status(w()), HasSubstr("\"mode\":\"lockdown\""));
  EXPECT_THAT(w().HookLog(), HasSubstr("nm-killswitch.mode is \"sometimes\", not on or lockdown"));
  ASSERT_TRUE(w().DownVpn().ok());
  sleep(2);
  EXPECT_TRUE(Engaged(w())) << "a garbled mode must not let traffic out";
  EXPECT_EQ(Leaked(), 0u);
}

TEST_F(DispatcherTest, NothingResolvesSoTheVpnIsBlockedToo) {
  // A second OpenVPN connection whose only server does not resolve,
  // handed to the hook as nm-dispatcher would at vpn-pre-up.
  CommandResult add = w().Nmcli({"connection", "add", "type", "vpn", "con-name", "nowhere",
                                 "vpn-type", "openvpn", "vpn.data",
                                 "remote=gone.invalid, connection-type=tls"});
  ASSERT_TRUE(add.ok()) << add.output;
  ASSERT_TRUE(w().Killswitch({"enable", "nowhere"}).ok());
  std::string uuid = w().Nmcli({"-g", "connection.uuid", "connection", "show", "nowhere"}).output;
  uuid.erase(uuid.find_last_not_of("\n ") + 1);
  std::string settings = w().SettingsPath(uuid);
  ASSERT_THAT(settings, HasSubstr("/org/freedesktop/NetworkManager/Settings/"));
  CommandResult hook = w().RunHook("tun9", "vpn-pre-up",
                                   {{"NM_DISPATCHER_ACTION", "vpn-pre-up"},
                                    {"CONNECTION_UUID", uuid},
                                    {"CONNECTION_ID", "nowhere"},
                                    {"CONNECTION_DBUS_PATH", settings},
                                    {"DEVICE_IFACE", "eth0"},
                                    {"DEVICE_IP_IFACE", "eth0"},
                                    {"VPN_IP_IFACE", "tun9"}});
  EXPECT_EQ(hook.exit_code, 0) << hook.output;
  EXPECT_THAT(hook.output, HasSubstr("VPN server gone.invalid (port 1194/udp)"));
  EXPECT_THAT(hook.output, HasSubstr("blocks the VPN itself too (fail closed)"));
  std::string status = Status(w());
  EXPECT_THAT(status, HasSubstr(uuid));
  EXPECT_THAT(status, HasSubstr("\"tun9\""));
  usleep(100000);  // what was already on its way
  uint64_t leaked = w().Now().leaked;
  EXPECT_EQ(world::Send(w().client, {.protocol = Protocol::kUdp, .to = kOpenVpnServer4,
                                     .port = kOpenVpnPort, .count = 3})
                .sent,
            0);
  sleep(1);
  EXPECT_EQ(w().Now().leaked, leaked) << "nothing got out after the hook ran";
}

TEST_F(DispatcherTest, GarbledCallsChangeNothingOrFailClosed) {
  Enable();
  std::string settings = w().SettingsPath();
  const std::string huge(100000, 'x');  // below execve's 128 KiB per string
  struct Call {
    std::string iface, action;
    std::map<std::string, std::string> env;
    const char* says;
  };
  const std::map<std::string, std::string> good = {{"NM_DISPATCHER_ACTION", "vpn-pre-up"},
                                                   {"CONNECTION_UUID", kOpenVpnUuid},
                                                   {"CONNECTION_DBUS_PATH", settings},
                                                   {"VPN_IP_IFACE", "tun0"}};
  auto with = [&](const std::string& key, const std::string& value) {
    auto env = good;
    env[key] = value;
    return env;
  };
  const Call calls[] = {
      {"tun0", "vpn-sideways", good, "not one NetworkManager sends"},
      {"tun0", "", good, "not one NetworkManager sends"},
      {"tun0", "vpn-pre-up", with("NM_DISPATCHER_ACTION", "vpn-down"), "disagrees"},
      {"tun0", "vpn-pre-up", with("CONNECTION_UUID", huge), "longer than 1024 bytes"},
      {"tun0", "vpn-pre-up", with("CONNECTION_UUID", "not-a-uuid"), "not a UUID"},
      {"tun0", "vpn-pre-up", with("CONNECTION_DBUS_PATH", "/org/freedesktop/DBus"),
       "not the path of a NetworkManager connection"},
      {"tun0", "vpn-pre-up", {{"NM_DISPATCHER_ACTION", "vpn-pre-up"}}, "CONNECTION_UUID is missing"},
      {"tun0", "vpn-pre-up",
       with("CONNECTION_UUID", "11111111-2222-4333-8444-555555555555"), "another UUID"},
  };
  for (const Call& c : calls) {
    CommandResult r = w().RunHook(c.iface, c.action, c.env);
    EXPECT_NE(r.exit_code, 0) << c.says;
    EXPECT_THAT(r.output, HasSubstr(c.says));
    EXPECT_THAT(r.output, HasSubstr("nm-killswitch-dispatcher: "));
    EXPECT_THAT(r.output, Not(HasSubstr("xxxxxxxxxx")));
    EXPECT_LT(r.output.size(), 400u);
  }
  EXPECT_FALSE(Engaged(w())) << Status(w());

  // With the connection known, one value that cannot be read still engages
  // the opted-in connection (fail closed): no tunnel, so not even tun0's
  // traffic gets out; switching it off releases it.
  auto pre_down = good;
  pre_down["NM_DISPATCHER_ACTION"] = "vpn-pre-down";
  const Call damaged[] = {
      {"tun0", "vpn-pre-up", with("VPN_IP_IFACE", "tun 0"), "VPN_IP_IFACE is not an interface name"},
      {"tun0", "vpn-pre-up", with("VPN_IP6_NUM_ADDRESSES", "abc"),
       "VPN_IP6_NUM_ADDRESSES is not a number"},
      {huge, "vpn-pre-up", good, "interface argument"},
  };
  for (const Call& c : damaged) {
    SCOPED_TRACE(c.says);
    CommandResult r = w().RunHook(c.iface, c.action, c.env);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_THAT(r.output, HasSubstr(c.says));
    EXPECT_THAT(r.output, HasSubstr("engaged without a tunnel and with the LAN blocked"));
    EXPECT_THAT(r.output, Not(HasSubstr("xxxxxxxxxx")));
    EXPECT_TRUE(Engaged(w())) << Status(w());
    EXPECT_THAT(Status(w()), HasSubstr("\"no-tunnel\":true"));
    CommandResult off = w().RunHook("tun0", "vpn-pre-down", pre_down);
    EXPECT_EQ(off.exit_code, 0) << off.output;
    EXPECT_FALSE(Engaged(w())) << Status(w());
  }

  // The same call, not garbled, engages.
  CommandResult ok = w().RunHook("tun0", "vpn-pre-up", good);
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_TRUE(Engaged(w()));

  // The light program (dispatcher.d's), given a connection's own event,
  // hands it to the one that reads the connection: released, engaged again.
  CommandResult light_off = w().RunHook("tun0", "vpn-pre-down", pre_down, w().HookPath());
  EXPECT_EQ(light_off.exit_code, 0) << light_off.output;
  EXPECT_FALSE(Engaged(w())) << Status(w());
  CommandResult light_on = w().RunHook("tun0", "vpn-pre-up", good, w().HookPath());
  EXPECT_EQ(light_on.exit_code, 0) << light_on.output;
  EXPECT_TRUE(Engaged(w())) << Status(w());
}

TEST_F(DispatcherTest, EnableRefusesWhatItCannotProtect) {
  CommandResult lan = w().Killswitch({"enable", "lan"});
  EXPECT_EQ(lan.exit_code, 1);
  EXPECT_THAT(lan.output, HasSubstr("it is not a VPN (its type is 802-3-ethernet)"));
  CommandResult none = w().Killswitch({"enable", "no-such-vpn"});
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.output, HasSubstr("NetworkManager has no connection \"no-such-vpn\""));
  CommandResult bad = w().Killswitch({"enable", kOpenVpnName, "--mode", "sometimes"});
  EXPECT_EQ(bad.exit_code, 2);
  CommandResult disable = w().Killswitch({"disable", kOpenVpnName});
  EXPECT_TRUE(disable.ok());
  EXPECT_THAT(disable.output, HasSubstr("was not enabled"));
}

class PermissionTest : public DispatcherTest {
  void Configure(OpenVpnOptions& o) override { o.nm_root_only = true; }
};

TEST_F(PermissionTest, ChangingAConnectionNeedsNetworkManagersPermission) {
  // NetworkManager's own authorisation refuses uid 65534: the command says
  // so clearly and nothing changes.
  CommandResult r = w().InClient({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  "env", "DBUS_SYSTEM_BUS_ADDRESS=" + w().BusAddress(),
                                  std::string(NMKS_BUILD_DIR) + "/cli/nm-killswitch", "enable",
                                  kOpenVpnName});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("NetworkManager refused to change \"ovpn\""));
  EXPECT_THAT(r.output, HasSubstr("nothing was changed"));
  std::printf("as uid 65534: %s", r.output.c_str());
  EXPECT_THAT(w().ConnectionFile(), Not(HasSubstr("nm-killswitch")));
  // Root may.
  CommandResult root = w().Killswitch({"enable", kOpenVpnName});
  EXPECT_TRUE(root.ok()) << root.output;
  EXPECT_THAT(w().ConnectionFile(), HasSubstr("nm-killswitch.mode=on"));
}

// Our own VPN type engages its kill switch itself (with its fwmark on the
// endpoints); the hook leaves it alone even when it carries the opt-in.
TEST(OwnVpnTest, TheHookLeavesOurOwnVpnTypeAlone) {
  NMKS_REQUIRE_ROOT();
  OpenVpnOptions o;
  o.build_dir = NMKS_BUILD_DIR;
  o.openvpn_server = false;  // NmWorld's WireGuard server and our plugin
  OpenVpnWorld w(o);
  w.ImportVpn();
  CommandResult refused = w.Killswitch({"enable", "wg0"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr("its kill switch is built in"));
  // The opt-in written into the connection anyway.
  std::string file = w.dir() + "/etc-nm/system-connections/wg0.nmconnection";
  ASSERT_TRUE(w.InClient({"sh", "-c", "printf '\\n[user]\\nnm-killswitch.mode=lockdown\\n' >> " + file})
                  .ok());
  ASSERT_TRUE(w.Nmcli({"connection", "reload"}).ok());
  ASSERT_THAT(w.SettingsText(w.VpnUuid()), HasSubstr("'user': {'data': <{'nm-killswitch.mode': 'lockdown'}>}"));
  CommandResult up = w.Up();
  ASSERT_TRUE(up.ok()) << up.output << w.OpenVpnLogs();
  ASSERT_TRUE(w.NmWorld::WaitTunnelFlows(20, 30)) << w.OpenVpnLogs();
  std::string status = Status(w);
  EXPECT_THAT(status, HasSubstr(",27507]")) << "the plugin's own policy, with its fwmark";
  EXPECT_THAT(status, HasSubstr("\"mode\":\"on\"")) << "not the opt-in's lockdown";
  EXPECT_THAT(w.HookLog(), Not(HasSubstr("engaged"))) << w.HookLog();
}

}  // namespace
}  // namespace nmks::nmworld
