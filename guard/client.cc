#include "guard/client.h"

#include <unistd.h>

#include <optional>
#include <utility>

#include "base/i18n.h"
#include "guard/names.h"

namespace nmks {
namespace {

Status Failed(GError* error) {
  Status s = Status::Error(GuardCallError(error));
  g_clear_error(&error);
  return s;
}

}  // namespace

std::string GuardCallError(GError* error) {
  if (error == nullptr) return _("unknown error");
  if (g_dbus_error_is_remote_error(error)) g_dbus_error_strip_remote_error(error);
  if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)) {
    return Format(_("nm-killswitch-guard is not running and could not be started (%s)"),
                  error->message);
  }
  return error->message;
}

Result<std::unique_ptr<GuardClient>> GuardClient::Connect() { return Connect(Options()); }

Result<std::unique_ptr<GuardClient>> GuardClient::Connect(const Options& options) {
  GError* error = nullptr;
  int flags = G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS;
  if (!options.auto_start) flags |= G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START;
  // Only root may call the guard itself; everyone else reaches it through
  // nm-killswitch-front, which serves the same interface.
  const char* name = geteuid() == 0 ? kGuardBusName : kFrontBusName;
  NmksDBusGuard1* proxy = nmks_dbus_guard1_proxy_new_for_bus_sync(
      G_BUS_TYPE_SYSTEM, static_cast<GDBusProxyFlags>(flags), name, kGuardObjectPath, nullptr,
      &error);
  if (proxy == nullptr) {
    std::string msg = GuardCallError(error);
    g_clear_error(&error);
    return Status::Error(
        Format(_("cannot reach nm-killswitch-guard on the system bus: %s"), msg.c_str()));
  }
  g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(proxy), options.timeout_ms);
  return std::unique_ptr<GuardClient>(new GuardClient(proxy));
}

GuardClient::~GuardClient() { g_object_unref(proxy_); }

Status GuardClient::Engage(const std::string& connection, const Policy& policy,
                           bool block_at_boot) {
  // The policy dict with block-at-boot added.
  GVariantPtr dict = TakeVariant(PolicyToVariant(policy));
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  GVariantIter it;
  g_variant_iter_init(&it, dict.get());
  const gchar* key;
  GVariant* value;
  while (g_variant_iter_next(&it, "{&sv}", &key, &value)) {
    g_variant_builder_add(&b, "{sv}", key, value);
    g_variant_unref(value);
  }
  g_variant_builder_add(&b, "{sv}", "block-at-boot", g_variant_new_boolean(block_at_boot));
  GError* error = nullptr;
  if (!nmks_dbus_guard1_call_engage_sync(proxy_, connection.c_str(), g_variant_builder_end(&b),
                                         nullptr, &error)) {
    return Failed(error);
  }
  return Status::Ok();
}

Status GuardClient::Release(const std::string& connection) {
  GError* error = nullptr;
  if (!nmks_dbus_guard1_call_release_sync(proxy_, connection.c_str(), nullptr, &error)) {
    return Failed(error);
  }
  return Status::Ok();
}

Status GuardClient::ReleaseAll() {
  GError* error = nullptr;
  if (!nmks_dbus_guard1_call_release_all_sync(proxy_, nullptr, &error)) return Failed(error);
  return Status::Ok();
}

Status GuardClient::SetBlockAtBoot(const std::string& connection, bool enabled) {
  GError* error = nullptr;
  if (!nmks_dbus_guard1_call_set_block_at_boot_sync(proxy_, connection.c_str(), enabled, nullptr,
                                                    &error)) {
    return Failed(error);
  }
  return Status::Ok();
}

Result<GuardStatus> GuardClient::GetStatus() {
  GVariant* raw = nullptr;
  GError* error = nullptr;
  if (!nmks_dbus_guard1_call_status_sync(proxy_, &raw, nullptr, &error)) return Failed(error);
  GVariantPtr status(raw);
  return GuardStatusFromVariant(status.get());
}

Result<std::optional<Policy>> GuardClient::GetPolicy(const std::string& connection) {
  gboolean engaged = FALSE;
  GVariant* raw = nullptr;
  GError* error = nullptr;
  if (!nmks_dbus_guard1_call_policy_sync(proxy_, connection.c_str(), &engaged, &raw, nullptr,
                                         &error)) {
    return Failed(error);
  }
  GVariantPtr dict(raw);
  if (!engaged) return std::optional<Policy>();
  auto req = PolicyFromVariant(dict.get());
  if (!req.ok()) {
    return Status::Error(Format(_("the guard's policy for \"%s\" cannot be read: %s"),
                                connection.c_str(), req.message().c_str()));
  }
  Policy p = std::move(req).value().policy;
  p.connections = {connection};
  Normalize(p);
  return std::optional<Policy>(std::move(p));
}

Result<GuardClient::Findings> GuardClient::Verify() {
  gboolean ok = FALSE;
  g_auto(GStrv) lines = nullptr;
  GError* error = nullptr;
  if (!nmks_dbus_guard1_call_verify_sync(proxy_, &ok, &lines, nullptr, &error)) {
    return Failed(error);
  }
  Findings f;
  f.ok = ok;
  for (gchar** l = lines; l && *l; ++l) f.lines.push_back(*l);
  return f;
}

Result<std::string> GuardClient::Repair() {
  g_autofree gchar* repaired = nullptr;
  GError* error = nullptr;
  if (!nmks_dbus_guard1_call_repair_sync(proxy_, &repaired, nullptr, &error)) return Failed(error);
  return std::string(repaired ? repaired : "");
}

Result<bool> GuardClient::IsRunning(int timeout_ms) {
  GError* error = nullptr;
  GDBusConnection* bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, nullptr, &error);
  if (bus == nullptr) {
    Status s = Failed(error);
    return Status::Error(
        Format(_("cannot reach nm-killswitch-guard on the system bus: %s"), s.message().c_str()));
  }
  GVariant* reply = g_dbus_connection_call_sync(
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
      g_variant_new("(s)", kGuardBusName), G_VARIANT_TYPE("(b)"), G_DBUS_CALL_FLAGS_NONE,
      timeout_ms, nullptr, &error);
  g_object_unref(bus);
  if (reply == nullptr) return Failed(error);
  gboolean has_owner = FALSE;
  g_variant_get(reply, "(b)", &has_owner);
  g_variant_unref(reply);
  return static_cast<bool>(has_owner);
}

}  // namespace nmks
