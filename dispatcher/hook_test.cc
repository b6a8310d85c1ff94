// The hook's decisions, event by event, against a fake NetworkManager and
// guard: what it engages (and with what policy), when it releases, when it
// only asks for a repair, and that it does nothing at all for connections
// nobody opted in, for our own VPN type, and for anything garbled.
#include "dispatcher/hook.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dispatcher/opt_in.h"
#include "dispatcher/test_connections.h"

namespace nmks::dispatch {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::SizeIs;

constexpr char kPath[] = "/org/freedesktop/NetworkManager/Settings/7";

Endpoint E(const char* text) { return Endpoint::Parse(text).value(); }

class FakeBackend : public Backend {
 public:
  Result<ConnectionPtr> Settings(const std::string& path) override {
    calls.push_back("Settings " + path);
    if (!connection) return Status::Error("No such object path");
    return ConnectionPtr(nm_simple_connection_new_clone(connection.get()));
  }
  Result<ConnectionPtr> SavedSettings(const std::string& filename) override {
    calls.push_back("SavedSettings " + filename);
    if (!saved) return Status::Error("No such file or directory");
    return ConnectionPtr(nm_simple_connection_new_clone(saved.get()));
  }
  Result<uint32_t> DeviceStateReason(const std::string& iface) override {
    calls.push_back("DeviceStateReason " + iface);
    return reason;
  }
  Resolution Resolve(const std::vector<Remote>& remotes) override {
    calls.push_back("Resolve");
    resolved_remotes = remotes;
    std::map<std::string, HostAnswer> answers;  // a name not in `dns` does not resolve
    for (const auto& [host, addresses] : dns) {
      for (const auto& a : addresses) answers[host].addresses.push_back(Address::Parse(a).value());
    }
    return ResolutionOf(remotes, answers);
  }
  Result<bool> GuardRunning() override {
    calls.push_back("GuardRunning");
    return guard_running;
  }
  Result<std::optional<Policy>> Engaged(const std::string& id) override {
    calls.push_back("Engaged " + id);
    auto it = engaged.find(id);
    if (it == engaged.end()) return std::optional<Policy>();
    return std::optional<Policy>(it->second);
  }
  Status Engage(const std::string& id, const Policy& policy, bool at_boot) override {
    calls.push_back("Engage " + id);
    if (!engage_error.empty()) return Status::Error(engage_error);
    engaged[id] = policy;
    block_at_boot = at_boot;
    return Status::Ok();
  }
  Status Release(const std::string& id) override {
    calls.push_back("Release " + id);
    engaged.erase(id);
    return Status::Ok();
  }
  Result<std::string> Repair() override {
    calls.push_back("Repair");
    return repair_says;
  }

  ConnectionPtr connection;
  ConnectionPtr saved;  // what the profile's file holds
  std::map<std::string, std::vector<std::string>> dns = {
      {"203.0.113.1", {"203.0.113.1"}},
      {"vpn.example.com", {"203.0.113.5", "2001:db8::5"}},
  };
  uint32_t reason = kReasonUserRequested;
  bool guard_running = true;
  std::string engage_error;
  std::string repair_says;
  std::map<std::string, Policy> engaged;
  bool block_at_boot = false;
  std::vector<Remote> resolved_remotes;
  std::vector<std::string> calls;
};

Event VpnEvent(Action action) {
  Event e;
  e.action = action;
  e.iface = "tun0";
  e.uuid = test::kUuid;
  e.settings_path = kPath;
  e.connection_id = "office";
  e.vpn_ip_iface = "tun0";
  e.device_iface = "eth0";
  e.device_ip_iface = "eth0";
  return e;
}

Event WireGuardEvent(Action action) {
  Event e;
  e.action = action;
  e.iface = "wg7";
  e.uuid = test::kUuid;
  e.settings_path = kPath;
  e.device_iface = "wg7";
  e.device_ip_iface = "wg7";
  return e;
}

class HookTest : public testing::Test {
 protected:
  int Run(const Event& e) {
    log.clear();
    backend.calls.clear();
    return RunHook(e, backend, [this](const std::string& line) { log.push_back(line); });
  }
  void OptedInOpenVpn(const std::map<std::string, std::string>& user_data = {
                          {"nm-killswitch.mode", "on"}}) {
    backend.connection = test::OpenVpn({{"remote", "203.0.113.1:1194, vpn.example.com:443:tcp"}});
    test::SetUserData(backend.connection.get(), user_data);
  }
  bool Engaged() const { return backend.engaged.count(test::kUuid) > 0; }
  const Policy& Held() { return backend.engaged[test::kUuid]; }

  FakeBackend backend;
  std::vector<std::string> log;
};

TEST_F(HookTest, VpnPreUpEngagesAnOptedInOpenVpn) {
  OptedInOpenVpn({{"nm-killswitch.mode", "on"},
                  {"nm-killswitch.allow-lan", "yes"},
                  {"nm-killswitch.block-at-boot", "yes"}});
  Event e = VpnEvent(Action::kVpnPreUp);
  e.vpn_has_ipv6 = true;
  EXPECT_EQ(Run(e), 0);
  ASSERT_TRUE(Engaged());
  EXPECT_THAT(Held().tunnels, ElementsAre("tun0"));
  EXPECT_THAT(Held().endpoints, ElementsAre(E("203.0.113.1:1194/udp"), E("203.0.113.5:443/tcp"),
                                            E("[2001:db8::5]:443/tcp")));
  EXPECT_TRUE(Held().allow_lan);
  EXPECT_EQ(Held().ipv6, Ipv6Mode::kTunnel);
  EXPECT_EQ(Held().mode, Mode::kOn);
  EXPECT_TRUE(backend.block_at_boot);
  EXPECT_THAT(log, ElementsAre(HasSubstr("\"office\" (" + std::string(test::kUuid) +
                                         "): kill switch engaged (on, LAN allowed, at boot too): "
                                         "tunnel tun0, 3 endpoint(s)")));
}

TEST_F(HookTest, WithoutIpv6InTheTunnelIpv6IsBlocked) {
  OptedInOpenVpn();
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  EXPECT_EQ(Held().ipv6, Ipv6Mode::kBlock);
  EXPECT_FALSE(Held().allow_lan);
  EXPECT_FALSE(backend.block_at_boot);
}

TEST_F(HookTest, ConnectionsNobodyOptedInAreLeftAlone) {
  backend.connection = test::OpenVpn({{"remote", "203.0.113.1"}});
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  EXPECT_THAT(backend.calls, ElementsAre(std::string("Settings ") + kPath));
  EXPECT_THAT(log, IsEmpty());
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreDown)), 0);
  EXPECT_FALSE(Engaged());
}

TEST_F(HookTest, OurOwnVpnTypeIsIgnoredEvenWithUserData) {
  backend.connection = test::VpnConnection(kOwnServiceType, {{"endpoint", "203.0.113.1:51820"}});
  test::SetUserData(backend.connection.get(), {{"nm-killswitch.mode", "on"}});
  for (Action a : {Action::kVpnPreUp, Action::kVpnPreDown}) {
    EXPECT_EQ(Run(VpnEvent(a)), 0);
    EXPECT_THAT(backend.calls, ElementsAre(std::string("Settings ") + kPath)) << ActionName(a);
    EXPECT_THAT(log, IsEmpty());
  }
}

TEST_F(HookTest, OtherVpnTypesAreNotEngagedAndSaySo) {
  backend.connection = test::VpnConnection("org.freedesktop.NetworkManager.vpnc", {});
  test::SetUserData(backend.connection.get(), {{"nm-killswitch.mode", "on"}});
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 1);
  EXPECT_FALSE(Engaged());
  EXPECT_THAT(log, ElementsAre(HasSubstr("is not one the kill switch knows")));
}

TEST_F(HookTest, NothingHappensWhenNetworkManagerCannotBeAskedOrDisagrees) {
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 1);  // no such connection
  EXPECT_THAT(log, ElementsAre(HasSubstr("cannot read the connection from NetworkManager")));
  OptedInOpenVpn();
  Event other = VpnEvent(Action::kVpnPreUp);
  other.uuid = "11111111-2222-4333-8444-555555555555";
  EXPECT_EQ(Run(other), 1);
  EXPECT_THAT(log, ElementsAre(HasSubstr("has another UUID")));
  EXPECT_TRUE(backend.engaged.empty());
}

// Fail closed: its traffic cannot be told apart, so only its servers are
// allowed out, never the device NetworkManager named instead.
TEST_F(HookTest, AVpnWithoutAnInterfaceOfItsOwnBlocksEverythingButItsServers) {
  OptedInOpenVpn();
  for (const char* iface : {"", "eth0"}) {  // "eth0": the VPN's traffic leaves by the device
    backend.engaged.clear();
    Event e = VpnEvent(Action::kVpnPreUp);
    e.vpn_ip_iface = iface;
    EXPECT_EQ(Run(e), 0) << iface;
    ASSERT_TRUE(Engaged()) << iface;
    EXPECT_TRUE(Held().tunnels.empty()) << iface;
    EXPECT_TRUE(Held().no_tunnel) << iface;
    EXPECT_FALSE(Held().endpoints.empty()) << iface;
    EXPECT_TRUE(Validate(Held()).ok()) << iface;
    EXPECT_THAT(log, ElementsAre(HasSubstr("names no interface of the VPN's own"),
                                 HasSubstr("tunnel (none)")))
        << iface;
  }
}

TEST_F(HookTest, PreUpEngagesNetworkManagersWireGuard) {
  backend.connection = test::WireGuard({"203.0.113.1:51820", "vpn.example.com:51821"});
  test::SetUserData(backend.connection.get(), {{"nm-killswitch.mode", "lockdown"}});
  Event e = WireGuardEvent(Action::kPreUp);
  e.device_has_ipv6 = true;
  EXPECT_EQ(Run(e), 0);
  ASSERT_TRUE(Engaged());
  EXPECT_THAT(Held().tunnels, ElementsAre("wg7"));
  EXPECT_THAT(Held().endpoints, ElementsAre(E("203.0.113.1:51820/udp"), E("203.0.113.5:51821/udp"),
                                            E("[2001:db8::5]:51821/udp")));
  EXPECT_EQ(Held().mode, Mode::kLockdown);
  EXPECT_EQ(Held().ipv6, Ipv6Mode::kTunnel);
  // vpn-pre-up does not concern a WireGuard device; pre-up not a VPN plugin.
  backend.engaged.clear();
  EXPECT_EQ(Run(WireGuardEvent(Action::kVpnPreUp)), 0);
  OptedInOpenVpn();
  EXPECT_EQ(Run(VpnEvent(Action::kPreUp)), 0);
  EXPECT_FALSE(Engaged());
}

TEST_F(HookTest, UnresolvedNamesOpenNothingButKeepWhatIsAllowed) {
  backend.connection = test::OpenVpn({{"remote", "gone.example.com, 203.0.113.1"}});
  test::SetUserData(backend.connection.get(), {{"nm-killswitch.mode", "on"}});
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  EXPECT_THAT(Held().endpoints, ElementsAre(E("203.0.113.1:1194/udp")));
  EXPECT_THAT(log[0], HasSubstr("VPN server gone.example.com (port 1194/udp): no answer in time; "
                                "it is not allowed"));
  // Engaged already (a reconnect while the table blocks DNS): what the
  // guard holds for the connection stays allowed.
  Policy held = Held();
  held.endpoints.push_back(E("203.0.113.66:1194/udp"));
  backend.engaged[test::kUuid] = held;
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  EXPECT_THAT(Held().endpoints, ElementsAre(E("203.0.113.1:1194/udp"), E("203.0.113.66:1194/udp")));
}

TEST_F(HookTest, NoServerAddressAtAllEngagesAnywayAndBlocksTheVpnToo) {
  backend.connection = test::OpenVpn({{"remote", "gone.example.com, 203.0.113.1:0"}});
  test::SetUserData(backend.connection.get(), {{"nm-killswitch.mode", "on"}});
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  ASSERT_TRUE(Engaged());
  EXPECT_THAT(Held().tunnels, ElementsAre("tun0"));
  EXPECT_THAT(Held().endpoints, IsEmpty());
  EXPECT_THAT(log, testing::Contains(HasSubstr("blocks the VPN itself too (fail closed)")));
  EXPECT_THAT(log, testing::Contains(HasSubstr("203.0.113.1:0")));
}

TEST_F(HookTest, BadUserDataEngagesInLockdown) {
  OptedInOpenVpn({{"nm-killswitch.mode", "sometimes"}, {"nm-killswitch.allow-lan", "yes"}});
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  EXPECT_EQ(Held().mode, Mode::kLockdown);
  EXPECT_FALSE(Held().allow_lan);
  EXPECT_THAT(log, testing::Contains(HasSubstr("nm-killswitch.mode is \"sometimes\"")));
  EXPECT_THAT(log, testing::Contains(HasSubstr("engaged (lockdown)")));
}

TEST_F(HookTest, AFailedEngageIsReported) {
  OptedInOpenVpn();
  backend.engage_error = "nm-killswitch-guard is not running and could not be started";
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 1);
  EXPECT_THAT(log, ElementsAre(HasSubstr("could not be engaged: nm-killswitch-guard is not")));
}

TEST_F(HookTest, VpnPreDownReleasesModeOnOnly) {
  OptedInOpenVpn();
  ASSERT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreDown)), 0);
  EXPECT_FALSE(Engaged());
  EXPECT_THAT(log, ElementsAre(HasSubstr("was switched off: kill switch released")));

  OptedInOpenVpn({{"nm-killswitch.mode", "lockdown"}});
  ASSERT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreDown)), 0);
  EXPECT_TRUE(Engaged());
  EXPECT_THAT(log, ElementsAre(HasSubstr("in lockdown the kill switch stays engaged")));
}

TEST_F(HookTest, WhatWasEngagedDecidesNotTheSettingsNow) {
  // Engaged in lockdown, then the user data was changed to "on": still kept.
  OptedInOpenVpn({{"nm-killswitch.mode", "lockdown"}});
  ASSERT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  OptedInOpenVpn({{"nm-killswitch.mode", "on"}});
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreDown)), 0);
  EXPECT_TRUE(Engaged());
  // Engaged in mode on, then disabled: released when switched off.
  backend.engaged.clear();
  ASSERT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  backend.connection = test::OpenVpn({{"remote", "203.0.113.1"}});
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreDown)), 0);
  EXPECT_FALSE(Engaged());
}

TEST_F(HookTest, ADeletedConnectionIsReleasedByTheGuardsWord) {
  OptedInOpenVpn();
  ASSERT_EQ(Run(VpnEvent(Action::kVpnPreUp)), 0);
  backend.connection.reset();  // deleted while active: NetworkManager has it no more
  EXPECT_EQ(Run(VpnEvent(Action::kVpnPreDown)), 0);
  EXPECT_FALSE(Engaged());
}

TEST_F(HookTest, WireGuardPreDownReleasesOnlyWhenTheUserSwitchedItOff) {
  backend.connection = test::WireGuard({"203.0.113.1:51820"});
  test::SetUserData(backend.connection.get(), {{"nm-killswitch.mode", "on"}});
  ASSERT_EQ(Run(WireGuardEvent(Action::kPreUp)), 0);
  backend.reason = 3;  // NOW_UNMANAGED: NetworkManager quits
  EXPECT_EQ(Run(WireGuardEvent(Action::kPreDown)), 0);
  EXPECT_TRUE(Engaged());
  EXPECT_THAT(log, ElementsAre(HasSubstr("not because the user switched it off (3)")));
  EXPECT_THAT(backend.calls, testing::Contains("DeviceStateReason wg7"));
  backend.reason = kReasonUserRequested;
  EXPECT_EQ(Run(WireGuardEvent(Action::kPreDown)), 0);
  EXPECT_FALSE(Engaged());
  // pre-down of an ordinary device never releases anything.
  ASSERT_EQ(Run(WireGuardEvent(Action::kPreUp)), 0);
  backend.connection = test::Ethernet();
  EXPECT_EQ(Run(WireGuardEvent(Action::kPreDown)), 0);
  EXPECT_TRUE(Engaged());
}

TEST_F(HookTest, EveryOtherEventAsksForARepairIfTheGuardRuns) {
  for (Action a :
       {Action::kUp, Action::kDown, Action::kVpnUp, Action::kVpnDown, Action::kDhcp4Change,
        Action::kDhcp6Change, Action::kConnectivityChange, Action::kReapply}) {
    SCOPED_TRACE(ActionName(a));
    backend.guard_running = true;
    EXPECT_EQ(Run(VpnEvent(a)), 0);
    EXPECT_THAT(backend.calls, ElementsAre("GuardRunning", "Repair"));
    backend.guard_running = false;
    EXPECT_EQ(Run(VpnEvent(a)), 0);
    EXPECT_THAT(backend.calls, ElementsAre("GuardRunning"));
  }
  backend.guard_running = true;
  backend.repair_says = "the table is missing";
  EXPECT_EQ(Run(VpnEvent(Action::kUp)), 0);
  EXPECT_THAT(log, ElementsAre(HasSubstr("differed from the engaged policy (the table is "
                                         "missing); repaired")));
}

TEST_F(HookTest, NothingForExternalDevicesHostnameOrMissingDetails) {
  OptedInOpenVpn();
  Event e = VpnEvent(Action::kPreUp);
  e.external = true;
  EXPECT_EQ(Run(e), 0);
  EXPECT_EQ(Run(VpnEvent(Action::kHostname)), 0);
  EXPECT_THAT(backend.calls, IsEmpty());
  e = VpnEvent(Action::kVpnPreUp);
  e.uuid.clear();
  EXPECT_EQ(Run(e), 2);
  EXPECT_THAT(backend.calls, IsEmpty());
  // Without a settings path, switching off asks the guard alone.
  e = VpnEvent(Action::kVpnPreDown);
  e.settings_path.clear();
  EXPECT_EQ(Run(e), 0);
  EXPECT_THAT(backend.calls, ElementsAre("Engaged " + std::string(test::kUuid)));
  EXPECT_FALSE(Engaged());
}

// Fail closed on a garbled event: an opted-in connection is engaged even
// though NetworkManager's values cannot be read, with no tunnel (its
// traffic cannot be told apart) and the LAN blocked, and the log says why.
TEST_F(HookTest, AnEventWithValuesThatCannotBeReadStillEngagesWithoutATunnel) {
  OptedInOpenVpn({{"nm-killswitch.mode", "on"}, {"nm-killswitch.allow-lan", "yes"}});
  Event e = VpnEvent(Action::kVpnPreUp);
  e.vpn_ip_iface.clear();
  e.vpn_has_ipv6 = false;
  e.damaged = {"VPN_IP_IFACE is not an interface name", "VPN_IP6_NUM_ADDRESSES is not a number"};
  EXPECT_EQ(Run(e), 0);
  ASSERT_TRUE(Engaged());
  EXPECT_TRUE(Held().no_tunnel);
  EXPECT_TRUE(Held().tunnels.empty());
  EXPECT_FALSE(Held().allow_lan);
  EXPECT_EQ(Held().ipv6, Ipv6Mode::kBlock);
  EXPECT_EQ(Held().mode, Mode::kOn);
  EXPECT_FALSE(Held().endpoints.empty()) << "its servers stay reachable";
  EXPECT_THAT(log, testing::Contains(HasSubstr(
                       "values that cannot be read (VPN_IP_IFACE is not an interface name; "
                       "VPN_IP6_NUM_ADDRESSES is not a number): the kill switch is engaged "
                       "without a tunnel and with the LAN blocked")));
  // Even if the interface was still named: a damaged event is not trusted.
  backend.engaged.clear();
  e = VpnEvent(Action::kVpnPreUp);
  e.damaged = {"DEVICE_IP_IFACE is not an interface name"};
  EXPECT_EQ(Run(e), 0);
  EXPECT_TRUE(Held().tunnels.empty());
  // A connection nobody opted in is still left alone.
  backend.engaged.clear();
  backend.connection = test::OpenVpn({{"remote", "203.0.113.1"}});
  EXPECT_EQ(Run(e), 0);
  EXPECT_FALSE(Engaged());
}

// NetworkManager cannot be asked (not answering, or the event's settings
// path is garbled): the profile's own file says whether the connection is
// opted in, and the kill switch is engaged from it.
TEST_F(HookTest, WhenNetworkManagerCannotBeAskedTheProfileFileDecides) {
  OptedInOpenVpn({{"nm-killswitch.mode", "lockdown"}});
  backend.saved = std::move(backend.connection);
  Event e = VpnEvent(Action::kVpnPreUp);
  e.connection_filename = "/etc/NetworkManager/system-connections/office.nmconnection";
  EXPECT_EQ(Run(e), 0);
  ASSERT_TRUE(Engaged());
  EXPECT_THAT(Held().tunnels, ElementsAre("tun0"));
  EXPECT_EQ(Held().mode, Mode::kLockdown);
  EXPECT_THAT(Held().endpoints, testing::Contains(E("203.0.113.1:1194/udp")));
  EXPECT_THAT(backend.calls, testing::Contains("SavedSettings " + e.connection_filename));
  EXPECT_THAT(log, testing::Contains(HasSubstr("read it from " + e.connection_filename)));

  // A garbled settings path: NetworkManager is not even asked.
  backend.engaged.clear();
  e.settings_path.clear();
  e.damaged = {"CONNECTION_DBUS_PATH is not the path of a NetworkManager connection"};
  EXPECT_EQ(Run(e), 0);
  EXPECT_TRUE(Engaged());
  EXPECT_TRUE(Held().no_tunnel);

  // The file holds another connection, or there is no file: nothing.
  backend.engaged.clear();
  e = VpnEvent(Action::kVpnPreUp);
  e.connection_filename = "/etc/NetworkManager/system-connections/office.nmconnection";
  backend.saved =
      test::OpenVpn({{"remote", "203.0.113.1"}}, "11111111-2222-4333-8444-555555555555");
  test::SetUserData(backend.saved.get(), {{"nm-killswitch.mode", "on"}});
  EXPECT_EQ(Run(e), 1);
  EXPECT_THAT(log, ElementsAre(HasSubstr("has another UUID than CONNECTION_UUID")));
  e.connection_filename.clear();
  EXPECT_EQ(Run(e), 1);
  EXPECT_THAT(log, ElementsAre(HasSubstr("NetworkManager names no file")));
  EXPECT_FALSE(Engaged());
}

}  // namespace
}  // namespace nmks::dispatch
