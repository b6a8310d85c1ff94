// FormFields, FormOptions and ApplyForm: the editor page's text as
// vpn.data and vpn.secrets, checked by the service's own reader.
#include "editor/gtk/editor_form.h"

#include <string_view>
#include <utility>

#include "base/glib_ptr.h"
#include "base/i18n.h"

namespace nmks::wg {
namespace {

// 32 zero bytes: a valid key, standing in for the fields not being checked.
constexpr char kStandInKey[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
constexpr char kFlagsSuffix[] = "-flags";
constexpr char kFirstPeerPrefix[] = "peer.0.";

std::string DataItem(NMSettingVpn* vpn, const std::string& key) {
  const char* value = vpn ? nm_setting_vpn_get_data_item(vpn, key.c_str()) : nullptr;
  return value ? value : "";
}

std::string SecretItem(NMSettingVpn* vpn, const std::string& key) {
  const char* value = vpn ? nm_setting_vpn_get_secret(vpn, key.c_str()) : nullptr;
  return value ? value : "";
}

GObjectPtr<NMSettingVpn> EmptyVpnSetting() {
  GObjectPtr<NMSettingVpn> vpn(NM_SETTING_VPN(nm_setting_vpn_new()));
  g_object_set(vpn.get(), NM_SETTING_VPN_SERVICE_TYPE, kServiceType, nullptr);
  return vpn;
}

void Put(NMSettingVpn* vpn, const FormField& field) {
  if (field.secret) {
    nm_setting_vpn_add_secret(vpn, field.key.c_str(), field.text.c_str());
  } else {
    nm_setting_vpn_add_data_item(vpn, field.key.c_str(), field.text.c_str());
  }
}

// A private key kept by the user's secret agent, or asked for every time,
// need not be in the connection the editor sees.
bool KeptElsewhere(NMSettingSecretFlags flags) {
  return (flags & (NM_SETTING_SECRET_FLAG_AGENT_OWNED | NM_SETTING_SECRET_FLAG_NOT_SAVED)) != 0;
}

bool OfAnotherPeer(std::string_view key) {
  return key.starts_with("peer.") && !key.starts_with(kFirstPeerPrefix);
}

// The items of peers 1, 2... of `from`, which the page does not show.
void CopyOtherPeers(NMSettingVpn* from, NMSettingVpn* to) {
  guint n = 0;
  GFreePtr<const char*> data(nm_setting_vpn_get_data_keys(from, &n));
  for (guint i = 0; i < n; ++i) {
    if (!OfAnotherPeer(data.get()[i])) continue;
    nm_setting_vpn_add_data_item(to, data.get()[i],
                                 nm_setting_vpn_get_data_item(from, data.get()[i]));
  }
  GFreePtr<const char*> secrets(nm_setting_vpn_get_secret_keys(from, &n));
  for (guint i = 0; i < n; ++i) {
    const char* value = nm_setting_vpn_get_secret(from, secrets.get()[i]);
    if (!OfAnotherPeer(secrets.get()[i]) || !value || !*value) continue;
    nm_setting_vpn_add_secret(to, secrets.get()[i], value);
  }
}

// ToConnection writes flags 0 for every key; the other peers keep theirs.
void RestoreOtherPeersFlags(NMSettingVpn* from, NMSettingVpn* to) {
  guint n = 0;
  GFreePtr<const char*> data(nm_setting_vpn_get_data_keys(from, &n));
  for (guint i = 0; i < n; ++i) {
    std::string_view key = data.get()[i];
    if (!OfAnotherPeer(key) || !key.ends_with(kFlagsSuffix)) continue;
    nm_setting_vpn_add_data_item(to, data.get()[i],
                                 nm_setting_vpn_get_data_item(from, data.get()[i]));
  }
}

}  // namespace

std::vector<FormField> FormFields(NMSettingVpn* vpn) {
  auto data = [vpn](std::string key, const char* label, bool required = false) {
    std::string text = DataItem(vpn, key);
    return FormField{std::move(key), label, std::move(text), false, required};
  };
  auto secret = [vpn](std::string key, const char* label, bool required = false) {
    std::string text = SecretItem(vpn, key);
    return FormField{std::move(key), label, std::move(text), true, required};
  };
  return {
      secret(kSecretPrivateKey, _("Private key"), true),
      data(kKeyAddress, _("Addresses")),
      data(kKeyDns, _("DNS servers")),
      data(kKeyDnsSearch, _("DNS search domains")),
      data(kKeyMtu, _("MTU")),
      data(kKeyListenPort, _("Listen port")),
      data(PeerKey(0, kPeerPublicKey), _("Public key"), true),
      secret(PeerKey(0, kPeerPresharedKey), _("Preshared key")),
      data(PeerKey(0, kPeerEndpoint), _("Endpoint")),
      data(PeerKey(0, kPeerAllowedIps), _("Allowed IPs")),
      data(PeerKey(0, kPeerPersistentKeepalive), _("Persistent keepalive")),
  };
}

Options FormOptions(NMSettingVpn* vpn) {
  Options o;
  std::string kill_switch = DataItem(vpn, kKeyKillSwitch);
  if (kill_switch == "lockdown") o.kill_switch = Options::KillSwitch::kLockdown;
  if (kill_switch == "off") o.kill_switch = Options::KillSwitch::kOff;
  o.allow_lan = DataItem(vpn, kKeyAllowLan) == "yes";
  o.block_at_boot = DataItem(vpn, kKeyBlockAtBoot) == "yes";
  if (DataItem(vpn, kKeyIpv6) == "block") o.ipv6 = Options::Ipv6::kBlock;
  return o;
}

bool ApplyForm(const Form& form, NMSettingVpn* kept, NMConnection* connection, FormError* error) {
  auto fail = [error](int field, std::string message) {
    if (error) *error = FormError{field, std::move(message)};
    return false;
  };

  // Each field alone, so the message names it.
  for (size_t i = 0; i < form.fields.size(); ++i) {
    const FormField& field = form.fields[i];
    if (field.text.empty()) {
      bool elsewhere = field.key == kSecretPrivateKey && KeptElsewhere(form.private_key_flags);
      if (field.required && !elsewhere) {
        return fail(static_cast<int>(i), Format(_("%s cannot be empty"), field.label.c_str()));
      }
      continue;
    }
    GObjectPtr<NMSettingVpn> alone = EmptyVpnSetting();
    nm_setting_vpn_add_secret(alone.get(), kSecretPrivateKey, kStandInKey);
    nm_setting_vpn_add_data_item(alone.get(), PeerKey(0, kPeerPublicKey).c_str(), kStandInKey);
    Put(alone.get(), field);
    if (auto checked = FromVpnSetting(alone.get()); !checked.ok()) {
      return fail(static_cast<int>(i),
                  Format(_("%s: %s"), field.label.c_str(), checked.message().c_str()));
    }
  }

  // Then all of it, with the peers that are not on the page.
  GObjectPtr<NMSettingVpn> all = EmptyVpnSetting();
  for (const FormField& field : form.fields) {
    if (!field.text.empty()) Put(all.get(), field);
  }
  bool key_left_out = nm_setting_vpn_get_secret(all.get(), kSecretPrivateKey) == nullptr;
  if (key_left_out) nm_setting_vpn_add_secret(all.get(), kSecretPrivateKey, kStandInKey);
  if (kept) CopyOtherPeers(kept, all.get());
  auto settings = FromVpnSetting(all.get());
  if (!settings.ok()) return fail(-1, settings.message());

  if (Status s = ToConnection(settings.value().config, form.options, connection); !s.ok()) {
    return fail(-1, s.message());
  }
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  if (key_left_out) nm_setting_vpn_remove_secret(vpn, kSecretPrivateKey);
  nm_setting_set_secret_flags(NM_SETTING(vpn), kSecretPrivateKey, form.private_key_flags, nullptr);
  if (!settings.value().config.peers.front().preshared_key.empty() ||
      form.preshared_key_flags != NM_SETTING_SECRET_FLAG_NONE) {
    nm_setting_set_secret_flags(NM_SETTING(vpn), PeerKey(0, kPeerPresharedKey).c_str(),
                                form.preshared_key_flags, nullptr);
  }
  if (kept) RestoreOtherPeersFlags(kept, vpn);
  return true;
}

}  // namespace nmks::wg
