#include "service/endings.h"

#include <utility>

#include "base/libnm.h"

namespace nmks::wg {
namespace {

constexpr char kNm[] = "org.freedesktop.NetworkManager";
constexpr char kVpnInterface[] = "org.freedesktop.NetworkManager.VPN.Connection";
constexpr char kActiveInterface[] = "org.freedesktop.NetworkManager.Connection.Active";

GVariant* GetProperty(GDBusConnection* bus, const char* path, const char* interface,
                      const char* name) {
  GVariant* reply =
      g_dbus_connection_call_sync(bus, kNm, path, "org.freedesktop.DBus.Properties", "Get",
                                  g_variant_new("(ss)", interface, name), G_VARIANT_TYPE("(v)"),
                                  G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
  if (reply == nullptr) return nullptr;
  GVariant* value = nullptr;
  g_variant_get(reply, "(v)", &value);
  g_variant_unref(reply);
  return value;
}

}  // namespace

const char* EndingName(Ending ending) {
  switch (ending) {
    case Ending::kUnknown:
      return "no word from NetworkManager";
    case Ending::kUserOff:
      return "switched off by the user";
    case Ending::kProfileDeleted:
      return "profile deleted";
    case Ending::kOther:
      return "ended by something other than the user";
  }
  return "";
}

EndingWatch::EndingWatch(GDBusConnection* bus, std::string uuid)
    : bus_(bus), uuid_(std::move(uuid)) {
  if (bus_ == nullptr) return;
  vpn_sub_ = g_dbus_connection_signal_subscribe(bus_, kNm, kVpnInterface, "VpnStateChanged",
                                                nullptr, nullptr, G_DBUS_SIGNAL_FLAGS_NONE,
                                                OnSignal, this, nullptr);
  active_sub_ = g_dbus_connection_signal_subscribe(bus_, kNm, kActiveInterface, "StateChanged",
                                                   nullptr, nullptr, G_DBUS_SIGNAL_FLAGS_NONE,
                                                   OnSignal, this, nullptr);
}

EndingWatch::~EndingWatch() {
  if (vpn_sub_) g_dbus_connection_signal_unsubscribe(bus_, vpn_sub_);
  if (active_sub_) g_dbus_connection_signal_unsubscribe(bus_, active_sub_);
}

bool EndingWatch::Resolve() {
  if (bus_ == nullptr) return false;
  GVariant* list = GetProperty(bus_, "/org/freedesktop/NetworkManager", kNm, "ActiveConnections");
  if (list == nullptr) return false;
  GVariantIter it;
  g_variant_iter_init(&it, list);
  const gchar* path = nullptr;
  while (g_variant_iter_next(&it, "&o", &path)) {
    GVariant* uuid = GetProperty(bus_, path, kActiveInterface, "Uuid");
    if (uuid == nullptr) continue;
    bool ours = g_strcmp0(g_variant_get_string(uuid, nullptr), uuid_.c_str()) == 0;
    g_variant_unref(uuid);
    if (ours) {
      path_ = path;
      break;
    }
  }
  g_variant_unref(list);
  return !path_.empty();
}

void EndingWatch::OnSignal(GDBusConnection*, const gchar*, const gchar* path,
                           const gchar* interface, const gchar*, GVariant* params, gpointer self) {
  auto* w = static_cast<EndingWatch*>(self);
  if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(uu)"))) return;
  guint32 state = 0, reason = 0;
  g_variant_get(params, "(uu)", &state, &reason);
  if (g_strcmp0(interface, kVpnInterface) == 0) {
    w->OnVpnState(path, state, reason);
  } else {
    w->OnActiveState(path, state, reason);
  }
}

void EndingWatch::OnVpnState(const std::string& path, guint32 state, guint32 reason) {
  if (path_.empty() || path != path_) return;
  heard_ = true;
  vpn_state_ = state;
  vpn_reason_ = reason;
}

void EndingWatch::OnActiveState(const std::string& path, guint32 state, guint32 reason) {
  if (path_.empty() || path != path_) return;
  if (state == NM_ACTIVE_CONNECTION_STATE_DEACTIVATING) deactivating_reason_ = reason;
}

Ending EndingWatch::Decide() const {
  if (!heard_) return Ending::kUnknown;
  const bool over = vpn_state_ == NM_VPN_CONNECTION_STATE_DISCONNECTED ||
                    vpn_state_ == NM_VPN_CONNECTION_STATE_FAILED;
  // A user cancelling a connection that is still coming up is reported as
  // ACTIVATED with the reason USER_DISCONNECTED.
  const bool cancelled = vpn_state_ == NM_VPN_CONNECTION_STATE_ACTIVATED;
  if ((over || cancelled) && vpn_reason_ == NM_VPN_CONNECTION_STATE_REASON_USER_DISCONNECTED) {
    return deactivating_reason_ == NM_ACTIVE_CONNECTION_STATE_REASON_CONNECTION_REMOVED
               ? Ending::kProfileDeleted
               : Ending::kUserOff;
  }
  return over ? Ending::kOther : Ending::kUnknown;
}

}  // namespace nmks::wg
