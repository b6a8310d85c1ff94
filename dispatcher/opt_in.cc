#include "dispatcher/opt_in.h"

#include <cstring>
#include <string_view>
#include <utility>

#include "base/i18n.h"

namespace nmks::dispatch {
namespace {

// A value echoed in a message: printable ASCII, at most 32 characters.
std::string Shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 32)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 32) out += "...";
  return out;
}

bool ParseYesNo(std::string_view text, bool* out) {
  if (text == "yes") {
    *out = true;
    return true;
  }
  if (text == "no") {
    *out = false;
    return true;
  }
  return false;
}

bool IsOurKey(const char* key) {
  return std::strncmp(key, kKeyPrefix, sizeof kKeyPrefix - 1) == 0;
}

// The service type without the "org.freedesktop.NetworkManager." prefix
// NetworkManager may or may not store.
std::string_view ShortServiceType(const char* type) {
  constexpr std::string_view kPrefix = "org.freedesktop.NetworkManager.";
  std::string_view t = type ? type : "";
  if (t.substr(0, kPrefix.size()) == kPrefix) t.remove_prefix(kPrefix.size());
  return t;
}

}  // namespace

OptInReading ReadOptIn(NMConnection* connection) {
  OptInReading r;
  auto* user = NM_SETTING_USER(nm_connection_get_setting(connection, NM_TYPE_SETTING_USER));
  if (user == nullptr) return r;
  guint n = 0;
  const char* const* keys = nm_setting_user_get_keys(user, &n);
  bool bad = false;
  for (guint i = 0; i < n; ++i) {
    const char* key = keys[i];
    if (!IsOurKey(key)) continue;
    r.opted_in = true;
    const char* value = nm_setting_user_get_data(user, key);
    std::string_view v = value ? value : "";
    if (std::strcmp(key, kKeyMode) == 0) {
      auto mode = ParseMode(v);
      if (mode.ok()) {
        r.options.mode = mode.value();
      } else {
        bad = true;
        r.problems.push_back(Format(_("%s is \"%s\", not on or lockdown"), key, Shown(v).c_str()));
      }
    } else if (std::strcmp(key, kKeyAllowLan) == 0) {
      if (!ParseYesNo(v, &r.options.allow_lan)) {
        bad = true;
        r.problems.push_back(Format(_("%s is \"%s\", not yes or no"), key, Shown(v).c_str()));
      }
    } else if (std::strcmp(key, kKeyBlockAtBoot) == 0) {
      if (!ParseYesNo(v, &r.options.block_at_boot)) {
        bad = true;
        r.problems.push_back(Format(_("%s is \"%s\", not yes or no"), key, Shown(v).c_str()));
      }
    } else {
      bad = true;
      r.problems.push_back(
          Format(_("%s is not a key nm-killswitch knows (mode, allow-lan, block-at-boot)"),
                 Shown(key).c_str()));
    }
  }
  if (bad) {
    // Whatever was meant, the kill switch stays on, as strict as it gets.
    r.options.mode = Mode::kLockdown;
    r.options.allow_lan = false;
    r.options.block_at_boot = false;
  }
  return r;
}

Status WriteOptIn(NMConnection* connection, const OptIn& options) {
  ClearOptIn(connection);
  auto* user = NM_SETTING_USER(nm_connection_get_setting(connection, NM_TYPE_SETTING_USER));
  if (user == nullptr) {
    user = NM_SETTING_USER(nm_setting_user_new());
    nm_connection_add_setting(connection, NM_SETTING(user));  // takes the reference
  }
  const std::pair<const char*, const char*> values[] = {
      {kKeyMode, ModeName(options.mode)},
      {kKeyAllowLan, options.allow_lan ? "yes" : "no"},
      {kKeyBlockAtBoot, options.block_at_boot ? "yes" : "no"},
  };
  for (const auto& [key, value] : values) {
    GError* error = nullptr;
    if (!nm_setting_user_set_data(user, key, value, &error)) {
      std::string msg = error ? error->message : "";
      g_clear_error(&error);
      return Status::Error(Format(_("cannot set %s: %s"), key, msg.c_str()));
    }
  }
  return Status::Ok();
}

bool ClearOptIn(NMConnection* connection) {
  auto* user = NM_SETTING_USER(nm_connection_get_setting(connection, NM_TYPE_SETTING_USER));
  if (user == nullptr) return false;
  guint n = 0;
  const char* const* keys = nm_setting_user_get_keys(user, &n);
  std::vector<std::string> ours;
  for (guint i = 0; i < n; ++i)
    if (IsOurKey(keys[i])) ours.push_back(keys[i]);
  for (const auto& key : ours) nm_setting_user_set_data(user, key.c_str(), nullptr, nullptr);
  return !ours.empty();
}

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kOpenVpn:
      return "OpenVPN";
    case Kind::kOpenConnect:
      return "OpenConnect";
    case Kind::kWireGuard:
      return "WireGuard";
  }
  return "?";
}

bool IsOwnVpn(NMConnection* connection) {
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  return vpn != nullptr &&
         ShortServiceType(nm_setting_vpn_get_service_type(vpn)) == ShortServiceType(kOwnServiceType);
}

Result<Kind> ProtectableKind(NMConnection* connection) {
  const char* type = nm_connection_get_connection_type(connection);
  if (type != nullptr && std::strcmp(type, NM_SETTING_WIREGUARD_SETTING_NAME) == 0) {
    return Kind::kWireGuard;
  }
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  if (type == nullptr || std::strcmp(type, NM_SETTING_VPN_SETTING_NAME) != 0 || vpn == nullptr) {
    return Status::Error(Format(_("it is not a VPN (its type is %s): the kill switch protects "
                                  "OpenVPN, OpenConnect and WireGuard connections"),
                                type ? Shown(type).c_str() : "?"));
  }
  std::string_view service = ShortServiceType(nm_setting_vpn_get_service_type(vpn));
  if (service == ShortServiceType(kOwnServiceType)) {
    return Status::Error(
        _("it is an nm-killswitch VPN: its kill switch is built in; set it with "
          "nmcli connection modify NAME +vpn.data kill-switch=on|lockdown|off"));
  }
  if (service == ShortServiceType(kOpenVpnServiceType)) return Kind::kOpenVpn;
  if (service == ShortServiceType(kOpenConnectServiceType)) return Kind::kOpenConnect;
  return Status::Error(Format(_("its VPN type %s is not one the kill switch knows the servers of: "
                                "it protects OpenVPN, OpenConnect and WireGuard connections"),
                              Shown(service).c_str()));
}

}  // namespace nmks::dispatch
