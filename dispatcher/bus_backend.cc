#include "dispatcher/bus_backend.h"

#include <utility>

#include "base/i18n.h"
#include "dispatcher/connection_file.h"

namespace nmks::dispatch {
namespace {

constexpr char kNmBusName[] = "org.freedesktop.NetworkManager";

std::string Message(GError* error) {
  if (error == nullptr) return _("unknown error");
  if (g_dbus_error_is_remote_error(error)) g_dbus_error_strip_remote_error(error);
  std::string m = error->message;
  g_error_free(error);
  return m;
}

}  // namespace

BusBackend::~BusBackend() {
  guard_.reset();
  if (bus_) g_object_unref(bus_);
}

Result<GDBusConnection*> BusBackend::Bus() {
  if (bus_ == nullptr) {
    GError* error = nullptr;
    bus_ = g_bus_get_sync(G_BUS_TYPE_SYSTEM, nullptr, &error);
    if (bus_ == nullptr) {
      return Status::Error(Format(_("cannot reach the system bus: %s"), Message(error).c_str()));
    }
  }
  return bus_;
}

Result<ConnectionPtr> BusBackend::SavedSettings(const std::string& filename) {
  return ReadConnectionFile(filename, SystemConnectionDirs(), 0);
}

Result<ConnectionPtr> BusBackend::Settings(const std::string& path) {
  auto bus = Bus();
  if (!bus.ok()) return bus.status();
  GError* error = nullptr;
  GVariant* reply = g_dbus_connection_call_sync(
      bus.value(), kNmBusName, path.c_str(), "org.freedesktop.NetworkManager.Settings.Connection",
      "GetSettings", nullptr, G_VARIANT_TYPE("(a{sa{sv}})"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
      timeouts_.network_manager_ms, nullptr, &error);
  if (reply == nullptr) return Status::Error(Message(error));
  GVariant* dict = g_variant_get_child_value(reply, 0);
  NMConnection* c = nm_simple_connection_new_from_dbus(dict, &error);
  g_variant_unref(dict);
  g_variant_unref(reply);
  if (c == nullptr) return Status::Error(Message(error));
  return ConnectionPtr(c);
}

Result<uint32_t> BusBackend::DeviceStateReason(const std::string& iface) {
  auto bus = Bus();
  if (!bus.ok()) return bus.status();
  GError* error = nullptr;
  GVariant* reply = g_dbus_connection_call_sync(
      bus.value(), kNmBusName, "/org/freedesktop/NetworkManager", "org.freedesktop.NetworkManager",
      "GetDeviceByIpIface", g_variant_new("(s)", iface.c_str()), G_VARIANT_TYPE("(o)"),
      G_DBUS_CALL_FLAGS_NO_AUTO_START, timeouts_.network_manager_ms, nullptr, &error);
  if (reply == nullptr) return Status::Error(Message(error));
  const char* device = nullptr;
  g_variant_get(reply, "(&o)", &device);
  GVariant* prop = g_dbus_connection_call_sync(
      bus.value(), kNmBusName, device, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new("(ss)", "org.freedesktop.NetworkManager.Device", "StateReason"),
      G_VARIANT_TYPE("(v)"), G_DBUS_CALL_FLAGS_NO_AUTO_START, timeouts_.network_manager_ms, nullptr,
      &error);
  g_variant_unref(reply);
  if (prop == nullptr) return Status::Error(Message(error));
  GVariant* value = nullptr;
  g_variant_get(prop, "(v)", &value);
  g_variant_unref(prop);
  if (!g_variant_is_of_type(value, G_VARIANT_TYPE("(uu)"))) {
    g_variant_unref(value);
    return Status::Error(_("NetworkManager's StateReason is not (uu)"));
  }
  guint32 state = 0, reason = 0;
  g_variant_get(value, "(uu)", &state, &reason);
  g_variant_unref(value);
  return static_cast<uint32_t>(reason);
}

Resolution BusBackend::Resolve(const std::vector<Remote>& remotes) {
  return nmks::Resolve(remotes, timeouts_.resolve);
}

Result<bool> BusBackend::GuardRunning() { return GuardClient::IsRunning(timeouts_.guard_ms); }

Result<GuardClient*> BusBackend::Guard(bool auto_start) {
  if (guard_ == nullptr || (auto_start && !guard_auto_start_)) {
    GuardClient::Options o;
    o.timeout_ms = timeouts_.guard_ms;
    o.auto_start = auto_start;
    auto client = GuardClient::Connect(o);
    if (!client.ok()) return client.status();
    guard_ = std::move(client).value();
    guard_auto_start_ = auto_start;
  }
  return guard_.get();
}

Result<std::optional<Policy>> BusBackend::Engaged(const std::string& connection) {
  auto guard = Guard(true);
  if (!guard.ok()) return guard.status();
  return guard.value()->GetPolicy(connection);
}

Status BusBackend::Engage(const std::string& connection, const Policy& policy, bool block_at_boot) {
  auto guard = Guard(true);
  if (!guard.ok()) return guard.status();
  return guard.value()->Engage(connection, policy, block_at_boot);
}

Status BusBackend::Release(const std::string& connection) {
  auto guard = Guard(true);
  if (!guard.ok()) return guard.status();
  return guard.value()->Release(connection);
}

Result<std::string> BusBackend::Repair() {
  auto guard = Guard(false);
  if (!guard.ok()) return guard.status();
  return guard.value()->Repair();
}

}  // namespace nmks::dispatch
