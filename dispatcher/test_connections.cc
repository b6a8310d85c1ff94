#include "dispatcher/test_connections.h"

#include <gtest/gtest.h>

namespace nmks::dispatch::test {
namespace {

ConnectionPtr Base(const char* type, const std::string& uuid) {
  ConnectionPtr c(nm_simple_connection_new());
  NMSetting* s_con = nm_setting_connection_new();
  g_object_set(s_con, NM_SETTING_CONNECTION_ID, "test", NM_SETTING_CONNECTION_UUID, uuid.c_str(),
               NM_SETTING_CONNECTION_TYPE, type, nullptr);
  nm_connection_add_setting(c.get(), s_con);
  return c;
}

// A public key for the WireGuard test peer `n` (any 32 bytes in base64).
std::string PeerKey(size_t n) {
  unsigned char key[32] = {};
  key[0] = static_cast<unsigned char>(n + 1);
  gchar* text = g_base64_encode(key, sizeof key);
  std::string out = text;
  g_free(text);
  return out;
}

}  // namespace

ConnectionPtr VpnConnection(const std::string& service_type,
                            const std::map<std::string, std::string>& data,
                            const std::string& uuid) {
  ConnectionPtr c = Base(NM_SETTING_VPN_SETTING_NAME, uuid);
  NMSetting* s_vpn = nm_setting_vpn_new();
  g_object_set(s_vpn, NM_SETTING_VPN_SERVICE_TYPE, service_type.c_str(), nullptr);
  for (const auto& [k, v] : data) nm_setting_vpn_add_data_item(NM_SETTING_VPN(s_vpn), k.c_str(), v.c_str());
  nm_connection_add_setting(c.get(), s_vpn);
  return c;
}

ConnectionPtr OpenVpn(const std::map<std::string, std::string>& data, const std::string& uuid) {
  return VpnConnection(kOpenVpnServiceType, data, uuid);
}

ConnectionPtr WireGuard(const std::vector<std::string>& endpoints, const std::string& uuid) {
  ConnectionPtr c = Base(NM_SETTING_WIREGUARD_SETTING_NAME, uuid);
  g_object_set(nm_connection_get_setting_connection(c.get()), NM_SETTING_CONNECTION_INTERFACE_NAME,
               "wg7", nullptr);
  NMSetting* s_wg = nm_setting_wireguard_new();
  size_t i = 0;
  for (const std::string& endpoint : endpoints) {
    NMWireGuardPeer* peer = nm_wireguard_peer_new();
    EXPECT_TRUE(nm_wireguard_peer_set_public_key(peer, PeerKey(i++).c_str(), TRUE));
    if (!endpoint.empty()) nm_wireguard_peer_set_endpoint(peer, endpoint.c_str(), TRUE);
    nm_setting_wireguard_append_peer(NM_SETTING_WIREGUARD(s_wg), peer);
    nm_wireguard_peer_unref(peer);
  }
  nm_connection_add_setting(c.get(), s_wg);
  return c;
}

ConnectionPtr Ethernet(const std::string& uuid) {
  ConnectionPtr c = Base(NM_SETTING_WIRED_SETTING_NAME, uuid);
  nm_connection_add_setting(c.get(), nm_setting_wired_new());
  return c;
}

void SetUserData(NMConnection* connection, const std::map<std::string, std::string>& data) {
  auto* user = NM_SETTING_USER(nm_connection_get_setting(connection, NM_TYPE_SETTING_USER));
  if (user == nullptr) {
    user = NM_SETTING_USER(nm_setting_user_new());
    nm_connection_add_setting(connection, NM_SETTING(user));
  }
  for (const auto& [k, v] : data) {
    GError* error = nullptr;
    EXPECT_TRUE(nm_setting_user_set_data(user, k.c_str(), v.empty() ? nullptr : v.c_str(), &error))
        << k << ": " << (error ? error->message : "");
    g_clear_error(&error);
  }
}

}  // namespace nmks::dispatch::test
