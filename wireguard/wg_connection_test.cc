// The connection mapping: every good wg-quick file survives
// parse -> ToConnection -> FromVpnSetting -> WriteWgQuick -> parse unchanged,
// keys live only in vpn.secrets (flags 0), NetworkManager accepts the
// connection, and FromVpnSetting refuses malformed connections naming the item.
#include "wireguard/wg_connection.h"

#include <gtest/gtest.h>

#include <map>

#include "base/glib_ptr.h"
#include "wireguard/wg_test_files.h"

namespace nmks::wg {
namespace {

GObjectPtr<NMConnection> NewConnection(const Config& config, const Options& options = {}) {
  GObjectPtr<NMConnection> connection(nm_simple_connection_new());
  NMSetting* s_con = nm_setting_connection_new();
  g_object_set(s_con, NM_SETTING_CONNECTION_ID, "test", nullptr);
  nm_connection_add_setting(connection.get(), s_con);
  Status s = ToConnection(config, options, connection.get());
  EXPECT_TRUE(s.ok()) << s.message();
  return connection;
}

Config ValidConfig() { return ParseWgQuick(ValidFile()).value(); }

std::map<std::string, std::string> DataItems(NMSettingVpn* vpn) {
  std::map<std::string, std::string> items;
  nm_setting_vpn_foreach_data_item(
      vpn,
      [](const char* key, const char* value, gpointer data) {
        (*static_cast<std::map<std::string, std::string>*>(data))[key] = value;
      },
      &items);
  return items;
}

std::map<std::string, std::string> Secrets(NMSettingVpn* vpn) {
  std::map<std::string, std::string> items;
  nm_setting_vpn_foreach_secret(
      vpn,
      [](const char* key, const char* value, gpointer data) {
        (*static_cast<std::map<std::string, std::string>*>(data))[key] = value;
      },
      &items);
  return items;
}

TEST(ConnectionTest, GoodFilesSurviveTheRoundTrip) {
  for (const std::string& name : TestFiles("good")) {
    SCOPED_TRACE(name);
    auto config = ParseWgQuick(ReadTestFile("good/" + name));
    ASSERT_TRUE(config.ok()) << config.message();
    auto connection = NewConnection(config.value());

    GError* error = nullptr;
    EXPECT_TRUE(nm_connection_normalize(connection.get(), nullptr, nullptr, &error))
        << (error ? error->message : "");
    g_clear_error(&error);

    auto settings = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
    ASSERT_TRUE(settings.ok()) << settings.message();
    EXPECT_EQ(settings.value().config, config.value());
    EXPECT_EQ(settings.value().options, Options{});
    auto again = ParseWgQuick(WriteWgQuick(settings.value().config));
    ASSERT_TRUE(again.ok()) << again.message();
    EXPECT_EQ(again.value(), config.value());

    // Keys only as secrets, never in vpn.data.
    NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
    for (const auto& [key, value] : DataItems(vpn)) {
      EXPECT_EQ(value.find(config.value().private_key), std::string::npos) << key;
      for (const Peer& p : config.value().peers) {
        if (!p.preshared_key.empty()) {
          EXPECT_EQ(value.find(p.preshared_key), std::string::npos);
        }
      }
    }
  }
}

TEST(ConnectionTest, WritesTheDocumentedItems) {
  auto config = ParseWgQuick(ReadTestFile("good/psk.conf")).value();
  config.peers.push_back(config.peers[0]);
  config.peers[1].public_key = NumberedKey(1);
  config.peers[1].preshared_key.clear();
  config.peers[1].endpoint = HostPort{"2001:db8::7", 443};
  config.peers[1].allowed_ips = {};
  config.peers[1].persistent_keepalive = 0;
  config.dns_search = {"corp.example", "~."};
  config.mtu = 1280;
  config.listen_port = 51821;
  Options options;
  options.kill_switch = Options::KillSwitch::kLockdown;
  options.allow_lan = true;
  options.ipv6 = Options::Ipv6::kBlock;
  auto connection = NewConnection(config, options);

  NMSettingConnection* s_con = nm_connection_get_setting_connection(connection.get());
  EXPECT_STREQ(nm_setting_connection_get_connection_type(s_con), "vpn");
  EXPECT_STREQ(nm_setting_connection_get_id(s_con), "test");
  EXPECT_NE(nm_setting_connection_get_uuid(s_con), nullptr);
  EXPECT_EQ(nm_setting_connection_get_interface_name(s_con), nullptr);
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
  EXPECT_STREQ(nm_setting_vpn_get_service_type(vpn), kServiceType);
  std::map<std::string, std::string> expected_data = {
      {"address", "10.13.13.2/32, 2001:db8:13::2/128"},
      {"dns", "10.13.13.1"},
      {"dns-search", "corp.example, ~."},
      {"mtu", "1280"},
      {"listen-port", "51821"},
      {"kill-switch", "lockdown"},
      {"allow-lan", "yes"},
      {"block-at-boot", "no"},
      {"ipv6", "block"},
      {"private-key-flags", "0"},
      {"peer.0.public-key", "dJ2BiaFcRlUAPmpidOjNShTndVPD4XarWVbJE9uhKgI="},
      {"peer.0.allowed-ips", "0.0.0.0/0, ::/0"},
      {"peer.0.endpoint", "192.0.2.44:51820"},
      {"peer.0.persistent-keepalive", "21"},
      {"peer.0.preshared-key-flags", "0"},
      {"peer.1.public-key", NumberedKey(1)},
      {"peer.1.endpoint", "[2001:db8::7]:443"},
  };
  EXPECT_EQ(DataItems(vpn), expected_data);
  std::map<std::string, std::string> expected_secrets = {
      {"private-key", "AG93oPg/jknXbaZBlHSSo66XHhLcc+45odiPViTBtkg="},
      {"peer.0.preshared-key", "LyOeGf8D8r0qjXNKP51b0FY/DOiMEb2MXzZVLMEsZAk="},
  };
  EXPECT_EQ(Secrets(vpn), expected_secrets);
  NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NOT_SAVED;
  ASSERT_TRUE(nm_setting_get_secret_flags(NM_SETTING(vpn), "private-key", &flags, nullptr));
  EXPECT_EQ(flags, NM_SETTING_SECRET_FLAG_NONE);

  NMSettingIPConfig* ip4 = nm_connection_get_setting_ip4_config(connection.get());
  NMSettingIPConfig* ip6 = nm_connection_get_setting_ip6_config(connection.get());
  ASSERT_NE(ip4, nullptr);
  ASSERT_NE(ip6, nullptr);
  EXPECT_STREQ(nm_setting_ip_config_get_method(ip4), "auto");
  EXPECT_STREQ(nm_setting_ip_config_get_method(ip6), "auto");

  auto settings = FromVpnSetting(vpn);
  ASSERT_TRUE(settings.ok()) << settings.message();
  EXPECT_EQ(settings.value().config, config);
  EXPECT_EQ(settings.value().options, options);

  // The connection as NetworkManager would store and send it.
  GError* error = nullptr;
  EXPECT_TRUE(nm_connection_verify(connection.get(), &error)) << (error ? error->message : "");
  g_clear_error(&error);
  GVariantPtr dict(nm_connection_to_dbus(connection.get(), NM_CONNECTION_SERIALIZE_ALL));
  GObjectPtr<NMConnection> back(nm_simple_connection_new_from_dbus(dict.get(), &error));
  ASSERT_TRUE(back) << (error ? error->message : "");
  auto from_dbus = FromVpnSetting(nm_connection_get_setting_vpn(back.get()));
  ASSERT_TRUE(from_dbus.ok()) << from_dbus.message();
  EXPECT_EQ(from_dbus.value(), settings.value());
}

TEST(ConnectionTest, EveryOptionRoundTrips) {
  for (auto kill :
       {Options::KillSwitch::kOn, Options::KillSwitch::kLockdown, Options::KillSwitch::kOff}) {
    for (int bits = 0; bits < 8; ++bits) {
      Options options;
      options.kill_switch = kill;
      options.allow_lan = bits & 1;
      options.block_at_boot = bits & 2;
      options.ipv6 = (bits & 4) ? Options::Ipv6::kBlock : Options::Ipv6::kAuto;
      auto connection = NewConnection(ValidConfig(), options);
      auto settings = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
      ASSERT_TRUE(settings.ok()) << settings.message();
      EXPECT_EQ(settings.value().options, options);
    }
  }
}

TEST(ConnectionTest, AbsentOptionsMeanTheDefaults) {
  auto connection = NewConnection(ValidConfig());
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
  for (const char* key : {kKeyKillSwitch, kKeyAllowLan, kKeyBlockAtBoot, kKeyIpv6}) {
    nm_setting_vpn_remove_data_item(vpn, key);
  }
  auto settings = FromVpnSetting(vpn);
  ASSERT_TRUE(settings.ok()) << settings.message();
  EXPECT_EQ(settings.value().options, Options{});
}

TEST(ConnectionTest, ToConnectionReplacesOldItemsAndKeepsTheRest) {
  Config three = ValidConfig();
  for (size_t i = 1; i < 3; ++i) {
    three.peers.push_back(three.peers[0]);
    three.peers[i].public_key = NumberedKey(i);
    three.peers[i].preshared_key = NumberedKey(100 + i);
  }
  auto connection = NewConnection(three);
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
  g_object_set(vpn, NM_SETTING_VPN_PERSISTENT, TRUE, nullptr);
  ASSERT_TRUE(ToConnection(ValidConfig(), Options{}, connection.get()).ok());
  EXPECT_EQ(nm_connection_get_setting_vpn(connection.get()), vpn);
  EXPECT_TRUE(nm_setting_vpn_get_persistent(vpn));
  EXPECT_EQ(nm_setting_vpn_get_data_item(vpn, "peer.1.public-key"), nullptr);
  EXPECT_EQ(nm_setting_vpn_get_data_item(vpn, "peer.1.preshared-key-flags"), nullptr);
  EXPECT_EQ(nm_setting_vpn_get_secret(vpn, "peer.1.preshared-key"), nullptr);
  auto settings = FromVpnSetting(vpn);
  ASSERT_TRUE(settings.ok()) << settings.message();
  EXPECT_EQ(settings.value().config, ValidConfig());
}

TEST(ConnectionTest, ToConnectionRefusesAnInvalidConfigAndChangesNothing) {
  GObjectPtr<NMConnection> connection(nm_simple_connection_new());
  Config config = ValidConfig();
  config.peers.clear();
  Status s = ToConnection(config, Options{}, connection.get());
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(nm_connection_get_setting_vpn(connection.get()), nullptr);
  EXPECT_EQ(nm_connection_get_setting_connection(connection.get()), nullptr);
}

struct Malformed {
  const char* what;
  void (*change)(NMSettingVpn*);
  const char* says;
};

void SetData(NMSettingVpn* vpn, const char* key, const char* value) {
  nm_setting_vpn_add_data_item(vpn, key, value);
}

const Malformed kMalformed[] = {
    {"unknown data item", [](NMSettingVpn* v) { SetData(v, "foo", "bar"); }, "unknown item foo"},
    {"peer item of an unknown name", [](NMSettingVpn* v) { SetData(v, "peer.0.bogus", "1"); },
     "unknown item peer.0.bogus"},
    {"peer number with a leading zero",
     [](NMSettingVpn* v) { SetData(v, "peer.00.public-key", kTestPublicKey); },
     "unknown item peer.00.public-key"},
    {"peer number past the limit",
     [](NMSettingVpn* v) { SetData(v, "peer.10000.public-key", kTestPublicKey); },
     "unknown item peer.10000.public-key"},
    {"private key as data", [](NMSettingVpn* v) { SetData(v, "private-key", kTestPrivateKey); },
     "a key must be a secret"},
    {"preshared key as data",
     [](NMSettingVpn* v) { SetData(v, "peer.0.preshared-key", kTestPrivateKey); },
     "peer.0.preshared-key: a key must be a secret"},
    {"gap in the peers", [](NMSettingVpn* v) { SetData(v, "peer.2.public-key", kTestPrivateKey); },
     "no peer.1.public-key"},
    {"peer without public key",
     [](NMSettingVpn* v) { SetData(v, "peer.1.endpoint", "192.0.2.9:1"); }, "no peer.1.public-key"},
    {"no peer",
     [](NMSettingVpn* v) {
       nm_setting_vpn_remove_data_item(v, "peer.0.public-key");
       nm_setting_vpn_remove_data_item(v, "peer.0.allowed-ips");
       nm_setting_vpn_remove_data_item(v, "peer.0.endpoint");
     },
     "the connection has no peer"},
    {"same peer twice", [](NMSettingVpn* v) { SetData(v, "peer.1.public-key", kTestPublicKey); },
     "peer.1.public-key is the same as peer.0.public-key"},
    {"missing private key", [](NMSettingVpn* v) { nm_setting_vpn_remove_secret(v, "private-key"); },
     "no private key"},
    {"bad private key",
     [](NMSettingVpn* v) { nm_setting_vpn_add_secret(v, "private-key", "AAAA"); },
     "the private key decodes to 3 bytes"},
    {"bad public key", [](NMSettingVpn* v) { SetData(v, "peer.0.public-key", "AAAA"); },
     "peer.0.public-key decodes to 3 bytes"},
    {"bad preshared key",
     [](NMSettingVpn* v) {
       nm_setting_vpn_add_secret(v, "peer.0.preshared-key",
                                 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==");
     },
     "peer.0.preshared-key decodes to 31 bytes"},
    {"preshared key of no peer",
     [](NMSettingVpn* v) { nm_setting_vpn_add_secret(v, "peer.3.preshared-key", kTestPrivateKey); },
     "secret peer.3.preshared-key belongs to no peer"},
    {"unknown secret", [](NMSettingVpn* v) { nm_setting_vpn_add_secret(v, "password", "x"); },
     "vpn.secrets has an unknown item password"},
    {"bad address", [](NMSettingVpn* v) { SetData(v, "address", "10.0.0.2/33"); },
     "vpn.data address: \"10.0.0.2/33\""},
    {"bad dns", [](NMSettingVpn* v) { SetData(v, "dns", "10.0.0.1, corp.example"); },
     "vpn.data dns: \"corp.example\" is not an IPv4 or IPv6 address"},
    {"unspecified dns", [](NMSettingVpn* v) { SetData(v, "dns", "::"); },
     "vpn.data dns: :: cannot be a DNS server"},
    {"bad dns-search", [](NMSettingVpn* v) { SetData(v, "dns-search", "a b"); },
     "vpn.data dns-search: \"a b\""},
    {"bad mtu", [](NMSettingVpn* v) { SetData(v, "mtu", "1420x"); }, "vpn.data mtu:"},
    {"bad listen-port", [](NMSettingVpn* v) { SetData(v, "listen-port", "0"); },
     "vpn.data listen-port:"},
    {"bad allowed-ips", [](NMSettingVpn* v) { SetData(v, "peer.0.allowed-ips", "0.0.0.0/0,"); },
     "vpn.data peer.0.allowed-ips: the list has an empty item"},
    {"bad endpoint", [](NMSettingVpn* v) { SetData(v, "peer.0.endpoint", "192.0.2.1:0"); },
     "vpn.data peer.0.endpoint:"},
    {"bad keepalive", [](NMSettingVpn* v) { SetData(v, "peer.0.persistent-keepalive", "65536"); },
     "vpn.data peer.0.persistent-keepalive:"},
    {"bad kill-switch", [](NMSettingVpn* v) { SetData(v, "kill-switch", "yes"); },
     "vpn.data kill-switch: \"yes\" must be on, lockdown or off"},
    {"bad allow-lan", [](NMSettingVpn* v) { SetData(v, "allow-lan", "true"); },
     "vpn.data allow-lan: \"true\" must be yes or no"},
    {"bad block-at-boot", [](NMSettingVpn* v) { SetData(v, "block-at-boot", "1"); },
     "vpn.data block-at-boot"},
    {"bad ipv6", [](NMSettingVpn* v) { SetData(v, "ipv6", "tunnel"); },
     "vpn.data ipv6: \"tunnel\" must be auto or block"},
    {"bad secret flags", [](NMSettingVpn* v) { SetData(v, "private-key-flags", "8"); },
     "vpn.data private-key-flags"},
    {"another VPN type",
     [](NMSettingVpn* v) {
       g_object_set(v, NM_SETTING_VPN_SERVICE_TYPE, "org.freedesktop.NetworkManager.openvpn",
                    nullptr);
     },
     "VPN type is org.freedesktop.NetworkManager.openvpn"},
    {"a key as an item name", [](NMSettingVpn* v) { SetData(v, kTestPrivateKey, "x"); },
     "unknown item (a name that is not shown)"},
};

TEST(ConnectionTest, FromVpnSettingRefusesMalformedItemsByName) {
  for (const Malformed& m : kMalformed) {
    SCOPED_TRACE(m.what);
    auto connection = NewConnection(ValidConfig());
    NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
    m.change(vpn);
    auto settings = FromVpnSetting(vpn);
    ASSERT_FALSE(settings.ok());
    EXPECT_NE(settings.message().find(m.says), std::string::npos) << settings.message();
    EXPECT_EQ(settings.message().find(kTestPrivateKey), std::string::npos) << settings.message();
  }
}

TEST(ConnectionTest, AgentOwnedSecretFlagsAreAccepted) {
  auto connection = NewConnection(ValidConfig());
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
  ASSERT_TRUE(nm_setting_set_secret_flags(NM_SETTING(vpn), "private-key",
                                          NM_SETTING_SECRET_FLAG_AGENT_OWNED, nullptr));
  auto settings = FromVpnSetting(vpn);
  ASSERT_TRUE(settings.ok()) << settings.message();
}

TEST(ConnectionTest, FromVpnSettingWithoutSettingIsAnError) {
  EXPECT_FALSE(FromVpnSetting(nullptr).ok());
}

}  // namespace
}  // namespace nmks::wg
