// The opt-in in the connection's user data: written and read back, bad
// values and unknown keys fall back to the strictest choice (never off),
// and only OpenVPN, OpenConnect and WireGuard can be opted in; our own VPN
// type is refused with a message saying its kill switch is built in.
#include "dispatcher/opt_in.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "dispatcher/test_connections.h"

namespace nmks::dispatch {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::SizeIs;

TEST(OptIn, NoKeysMeansNotOptedIn) {
  auto c = test::OpenVpn({{"remote", "203.0.113.1"}});
  EXPECT_FALSE(ReadOptIn(c.get()).opted_in);
  test::SetUserData(c.get(), {{"org.example.other", "x"}});
  EXPECT_FALSE(ReadOptIn(c.get()).opted_in);
  EXPECT_FALSE(ClearOptIn(c.get()));
}

TEST(OptIn, WrittenKeysReadBack) {
  auto c = test::OpenVpn({{"remote", "203.0.113.1"}});
  test::SetUserData(c.get(), {{"org.example.other", "kept"}});
  for (const OptIn& o : {OptIn{}, OptIn{Mode::kLockdown, true, true},
                         OptIn{Mode::kOn, false, true}}) {
    ASSERT_TRUE(WriteOptIn(c.get(), o).ok());
    GError* error = nullptr;
    EXPECT_TRUE(nm_connection_verify(c.get(), &error)) << (error ? error->message : "");
    g_clear_error(&error);
    OptInReading r = ReadOptIn(c.get());
    EXPECT_TRUE(r.opted_in);
    EXPECT_THAT(r.problems, IsEmpty());
    EXPECT_EQ(r.options, o);
  }
  auto* user = NM_SETTING_USER(nm_connection_get_setting(c.get(), NM_TYPE_SETTING_USER));
  EXPECT_STREQ(nm_setting_user_get_data(user, "nm-killswitch.mode"), "on");
  EXPECT_STREQ(nm_setting_user_get_data(user, "nm-killswitch.allow-lan"), "no");
  EXPECT_STREQ(nm_setting_user_get_data(user, "nm-killswitch.block-at-boot"), "yes");
  EXPECT_TRUE(ClearOptIn(c.get()));
  EXPECT_FALSE(ReadOptIn(c.get()).opted_in);
  EXPECT_STREQ(nm_setting_user_get_data(user, "org.example.other"), "kept");
}

TEST(OptIn, BadValuesFallBackToTheStrictestChoice) {
  struct Case {
    std::map<std::string, std::string> data;
    const char* problem;
  };
  const Case cases[] = {
      {{{"nm-killswitch.mode", "off"}}, "nm-killswitch.mode is \"off\", not on or lockdown"},
      {{{"nm-killswitch.mode", "ON"}, {"nm-killswitch.allow-lan", "yes"}}, "not on or lockdown"},
      {{{"nm-killswitch.allow-lan", "true"}}, "nm-killswitch.allow-lan is \"true\", not yes or no"},
      {{{"nm-killswitch.block-at-boot", "1"}}, "nm-killswitch.block-at-boot is \"1\""},
      {{{"nm-killswitch.mdoe", "on"}}, "nm-killswitch.mdoe is not a key nm-killswitch knows"},
      {{{"nm-killswitch.mode", std::string(5000, 'x')}}, "is \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.problem);
    auto conn = test::OpenVpn({{"remote", "203.0.113.1"}});
    test::SetUserData(conn.get(), c.data);
    OptInReading r = ReadOptIn(conn.get());
    EXPECT_TRUE(r.opted_in);
    EXPECT_EQ(r.options.mode, Mode::kLockdown);
    EXPECT_FALSE(r.options.allow_lan);
    EXPECT_FALSE(r.options.block_at_boot);
    ASSERT_THAT(r.problems, SizeIs(1));
    EXPECT_THAT(r.problems[0], HasSubstr(c.problem));
  }
}

TEST(OptIn, WhatCanBeProtected) {
  EXPECT_EQ(ProtectableKind(test::OpenVpn({}).get()).value(), Kind::kOpenVpn);
  EXPECT_EQ(ProtectableKind(test::VpnConnection("openvpn", {}).get()).value(), Kind::kOpenVpn);
  EXPECT_EQ(ProtectableKind(test::VpnConnection(kOpenConnectServiceType, {}).get()).value(),
            Kind::kOpenConnect);
  EXPECT_EQ(ProtectableKind(test::WireGuard({}).get()).value(), Kind::kWireGuard);

  auto own = test::VpnConnection(kOwnServiceType, {});
  EXPECT_TRUE(IsOwnVpn(own.get()));
  auto refused = ProtectableKind(own.get());
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("its kill switch is built in"));
  EXPECT_TRUE(IsOwnVpn(test::VpnConnection("killswitch", {}).get()));

  auto vpnc = ProtectableKind(test::VpnConnection("org.freedesktop.NetworkManager.vpnc", {}).get());
  ASSERT_FALSE(vpnc.ok());
  EXPECT_THAT(vpnc.message(), HasSubstr("vpnc is not one the kill switch knows"));
  auto ethernet = ProtectableKind(test::Ethernet().get());
  ASSERT_FALSE(ethernet.ok());
  EXPECT_THAT(ethernet.message(), HasSubstr("it is not a VPN (its type is 802-3-ethernet)"));
  EXPECT_FALSE(IsOwnVpn(test::OpenVpn({}).get()));
}

}  // namespace
}  // namespace nmks::dispatch
