// The dispatcher's call read strictly: what NetworkManager really sends is
// read; a call without a known action or connection (missing or unknown
// action, malformed UUID) is refused, and any other odd or huge value
// (paths, interface names, address counts) is left empty and named, with a
// message that names the variable and never echoes the value.
#include "dispatcher/event.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <utility>
#include <vector>

namespace nmks::dispatch {
namespace {

using testing::HasSubstr;
using testing::Not;

constexpr char kUuid[] = "0b5c3a2e-6f4d-4c1e-9a7b-2d8e1f0c3b4a";

struct Call {
  std::vector<std::string> args = {"/etc/NetworkManager/dispatcher.d/90-nm-killswitch"};
  std::map<std::string, std::string> env;
  Result<Event> Read() const {
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    return ReadEvent(static_cast<int>(args.size()), argv.data(), [this](const char* name) {
      auto it = env.find(name);
      return it == env.end() ? nullptr : it->second.c_str();
    });
  }
};

// What NetworkManager 1.42 sent at vpn-pre-up in the research runs.
Call VpnPreUp() {
  Call c;
  c.args.push_back("tun0");
  c.args.push_back("vpn-pre-up");
  c.env = {{"NM_DISPATCHER_ACTION", "vpn-pre-up"},
           {"CONNECTION_UUID", kUuid},
           {"CONNECTION_ID", "office vpn"},
           {"CONNECTION_DBUS_PATH", "/org/freedesktop/NetworkManager/Settings/3"},
           {"CONNECTION_FILENAME", "/etc/NetworkManager/system-connections/office.nmconnection"},
           {"DEVICE_IFACE", "eth0"},
           {"DEVICE_IP_IFACE", "eth0"},
           {"VPN_IP_IFACE", "tun0"},
           {"VPN_IP4_ADDRESS_0", "192.0.2.2/24 192.0.2.1"},
           {"VPN_IP4_NUM_ADDRESSES", "1"},
           {"VPN_IP6_ADDRESS_0", "fe80::1/64 ::"},
           {"VPN_IP6_ADDRESS_1", "2001:db8:200::1000/64 ::"},
           {"VPN_IP6_NUM_ADDRESSES", "2"},
           {"IP6_NUM_ADDRESSES", "1"},
           {"IP6_ADDRESS_0", "fe80::5/64 ::"}};
  return c;
}

TEST(Event, WhatNetworkManagerSendsIsRead) {
  auto e = VpnPreUp().Read();
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(e.value().action, Action::kVpnPreUp);
  EXPECT_EQ(e.value().iface, "tun0");
  EXPECT_EQ(e.value().uuid, kUuid);
  EXPECT_EQ(e.value().settings_path, "/org/freedesktop/NetworkManager/Settings/3");
  EXPECT_EQ(e.value().connection_id, "office vpn");
  EXPECT_EQ(e.value().vpn_ip_iface, "tun0");
  EXPECT_EQ(e.value().device_ip_iface, "eth0");
  EXPECT_TRUE(e.value().vpn_has_ipv6);
  EXPECT_FALSE(e.value().device_has_ipv6) << "link-local addresses do not count";
  EXPECT_FALSE(e.value().external);
  EXPECT_TRUE(RequireConnection(e.value()).ok());
}

TEST(Event, EveryActionNetworkManagerKnows) {
  for (const char* action : {"hostname", "pre-up", "up", "pre-down", "down", "vpn-pre-up",
                             "vpn-up", "vpn-pre-down", "vpn-down", "dhcp4-change", "dhcp6-change",
                             "connectivity-change", "reapply"}) {
    Call c;
    c.args = {"hook", action[0] == 'h' ? "none" : "", action};
    auto e = c.Read();
    ASSERT_TRUE(e.ok()) << action << ": " << e.message();
    EXPECT_STREQ(ActionName(e.value().action), action);
  }
}

TEST(Event, GarbledCallsAreRefused) {
  struct Case {
    const char* what;
    std::function<void(Call&)> garble;
    const char* message;
  };
  const std::string huge(100000, 'x');
  const Case cases[] = {
      {"no arguments", [](Call& c) { c.args.resize(1); }, "called with 0 argument(s)"},
      {"one argument", [](Call& c) { c.args.resize(2); }, "called with 1 argument(s)"},
      {"extra argument", [](Call& c) { c.args.push_back("x"); }, "called with 3 argument(s)"},
      {"unknown action", [](Call& c) { c.args[2] = "vpn-sideways"; }, "not one NetworkManager"},
      {"empty action", [](Call& c) { c.args[2] = ""; }, "not one NetworkManager"},
      {"disagreeing action", [](Call& c) { c.env["NM_DISPATCHER_ACTION"] = "vpn-down"; },
       "NM_DISPATCHER_ACTION disagrees"},
      {"huge UUID", [&](Call& c) { c.env["CONNECTION_UUID"] = huge; },
       "CONNECTION_UUID is longer than 1024 bytes"},
      {"not a UUID", [](Call& c) { c.env["CONNECTION_UUID"] = "../../etc/passwd"; },
       "CONNECTION_UUID is not a UUID"},
      {"UUID with a newline",
       [](Call& c) { c.env["CONNECTION_UUID"] = "0b5c3a2e-6f4d-4c1e-9a7b-2d8e1f0c3b4\n"; },
       "CONNECTION_UUID holds a character"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Call call = VpnPreUp();
    c.garble(call);
    auto e = call.Read();
    ASSERT_FALSE(e.ok());
    EXPECT_THAT(e.message(), HasSubstr(c.message));
    EXPECT_THAT(e.message(), Not(HasSubstr("xxxxxxxx")));
    EXPECT_THAT(e.message(), Not(HasSubstr("passwd")));
    EXPECT_LT(e.message().size(), 200u);
  }
}

// With the action and the connection known, one bad value does not make
// the event unreadable (the hook fails closed for an opted-in connection):
// the value is left empty and `damaged` names the variable, never the value.
TEST(Event, ValuesThatCannotBeReadAreNamedAndLeftEmpty) {
  struct Case {
    const char* what;
    std::function<void(Call&)> garble;
    const char* message;
    std::function<bool(const Event&)> emptied;
  };
  const std::string huge(100000, 'x');
  const Case cases[] = {
      {"huge interface argument", [&](Call& c) { c.args[1] = huge; }, "interface argument",
       [](const Event& e) { return e.iface.empty(); }},
      {"control character in the interface", [](Call& c) { c.args[1] = "tun\n0"; },
       "interface argument", [](const Event& e) { return e.iface.empty(); }},
      {"bad interface name", [](Call& c) { c.args[1] = "tun/0"; }, "not an interface name",
       [](const Event& e) { return e.iface.empty(); }},
      {"path outside NetworkManager's settings",
       [](Call& c) { c.env["CONNECTION_DBUS_PATH"] = "/org/freedesktop/DBus"; },
       "CONNECTION_DBUS_PATH is not the path",
       [](const Event& e) { return e.settings_path.empty(); }},
      {"malformed path",
       [](Call& c) { c.env["CONNECTION_DBUS_PATH"] = "/org/freedesktop/NetworkManager/Settings//3"; },
       "CONNECTION_DBUS_PATH is not the path",
       [](const Event& e) { return e.settings_path.empty(); }},
      {"tunnel name too long", [](Call& c) { c.env["VPN_IP_IFACE"] = "tun0123456789abcdef"; },
       "VPN_IP_IFACE is not an interface name",
       [](const Event& e) { return e.vpn_ip_iface.empty(); }},
      {"tunnel name with a space", [](Call& c) { c.env["VPN_IP_IFACE"] = "tun 0"; },
       "VPN_IP_IFACE is not an interface name",
       [](const Event& e) { return e.vpn_ip_iface.empty(); }},
      {"device name with a space", [](Call& c) { c.env["DEVICE_IP_IFACE"] = "eth 0"; },
       "DEVICE_IP_IFACE is not an interface name",
       [](const Event& e) { return e.device_ip_iface.empty(); }},
      {"address count not a number", [](Call& c) { c.env["VPN_IP6_NUM_ADDRESSES"] = "abc"; },
       "VPN_IP6_NUM_ADDRESSES is not a number", [](const Event& e) { return !e.vpn_has_ipv6; }},
      {"huge address", [&](Call& c) { c.env["VPN_IP6_ADDRESS_0"] = huge; },
       "VPN_IP6_ADDRESS_0 is longer than 1024 bytes",
       [](const Event& e) { return !e.vpn_has_ipv6; }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Call call = VpnPreUp();
    call.env["VPN_IP_IFACE"] = "tun0";
    call.env["VPN_IP6_NUM_ADDRESSES"] = "1";
    call.env["VPN_IP6_ADDRESS_0"] = "2001:db8:2::2/64 ::";
    c.garble(call);
    auto e = call.Read();
    ASSERT_TRUE(e.ok()) << e.message();
    ASSERT_EQ(e.value().damaged.size(), 1u);
    const std::string& why = e.value().damaged[0];
    EXPECT_THAT(why, HasSubstr(c.message));
    EXPECT_THAT(why, Not(HasSubstr("xxxxxxxx")));
    EXPECT_THAT(why, Not(HasSubstr("passwd")));
    EXPECT_LT(why.size(), 200u);
    EXPECT_TRUE(c.emptied(e.value()));
    EXPECT_EQ(e.value().uuid, kUuid);
    EXPECT_EQ(e.value().action, Action::kVpnPreUp);
  }
  auto clean = VpnPreUp().Read();
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean.value().damaged.empty());
  EXPECT_EQ(clean.value().connection_filename,
            "/etc/NetworkManager/system-connections/office.nmconnection");
  // The profile's file name is the user's (UTF-8 allowed); an odd one is
  // dropped, which damages nothing else.
  for (const auto& [file, kept] : std::vector<std::pair<std::string, bool>>{
           {"/etc/NetworkManager/system-connections/B\xc3\xbcro.nmconnection", true},
           {"x/passwd", false},
           {"/etc/NetworkManager/system-connections/a\nb", false},
           {std::string(2000, '/'), false}}) {
    Call call = VpnPreUp();
    call.env["CONNECTION_FILENAME"] = file;
    auto e = call.Read();
    ASSERT_TRUE(e.ok());
    EXPECT_TRUE(e.value().damaged.empty());
    EXPECT_EQ(e.value().connection_filename, kept ? file : "");
  }
}

TEST(Event, MissingConnectionDetailsAreNoticedWhereNeeded) {
  Call c = VpnPreUp();
  c.env.erase("CONNECTION_UUID");
  auto e = c.Read();
  ASSERT_TRUE(e.ok()) << "a repair event needs no connection";
  EXPECT_THAT(RequireConnection(e.value()).message(), HasSubstr("CONNECTION_UUID is missing"));
  c = VpnPreUp();
  c.env.erase("CONNECTION_DBUS_PATH");
  EXPECT_TRUE(RequireConnection(c.Read().value()).ok())
      << "without a settings path the hook reads the connection's file";
}

TEST(Event, OddButHarmlessValues) {
  Call c = VpnPreUp();
  c.env["CONNECTION_ID"] = "\x1b[31mred\n";  // the user's own name: not kept for logs
  c.env["CONNECTION_EXTERNAL"] = "1";
  c.env["VPN_IP6_NUM_ADDRESSES"] = "4000000";  // looks at no more than 256
  c.env["VPN_IP6_ADDRESS_1"] = "not an address";
  auto e = c.Read();
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(e.value().connection_id, "");
  EXPECT_TRUE(e.value().external);
  EXPECT_FALSE(e.value().vpn_has_ipv6);
}

}  // namespace
}  // namespace nmks::dispatch
