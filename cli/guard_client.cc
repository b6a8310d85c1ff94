#include "cli/guard_client.h"

#include <cstdio>

#include "rules/i18n.h"

namespace nmks::cli {

namespace {
constexpr char kBusName[] = "io.github.nmkillswitch.Guard1";
constexpr char kObjectPath[] = "/io/github/nmkillswitch/Guard1";
// Long enough for an administrator to answer a polkit password prompt.
constexpr int kCallTimeoutMs = 5 * 60 * 1000;
}  // namespace

Result<NmksDBusGuard1*> ConnectGuard() {
  GError* error = nullptr;
  NmksDBusGuard1* proxy = nmks_dbus_guard1_proxy_new_for_bus_sync(
      G_BUS_TYPE_SYSTEM,
      static_cast<GDBusProxyFlags>(G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES |
                                   G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS),
      kBusName, kObjectPath, nullptr, &error);
  if (proxy == nullptr) {
    std::string msg = CallError(error);
    g_clear_error(&error);
    return Status::Error(
        Format(_("cannot reach nm-killswitch-guard on the system bus: %s"), msg.c_str()));
  }
  g_dbus_proxy_set_default_timeout(G_DBUS_PROXY(proxy), kCallTimeoutMs);
  return proxy;
}

std::string CallError(GError* error) {
  if (error == nullptr) return _("unknown error");
  if (g_dbus_error_is_remote_error(error)) g_dbus_error_strip_remote_error(error);
  if (g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
      g_error_matches(error, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)) {
    return Format(_("nm-killswitch-guard is not running and could not be started (%s)"),
                  error->message);
  }
  return error->message;
}

void PrintError(const std::string& message) {
  std::fprintf(stderr, "nm-killswitch: %s\n", message.c_str());
}

bool ParseOptions(GOptionContext* context, int* argc, char*** argv, int* exit_code) {
  g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
  GError* error = nullptr;
  if (!g_option_context_parse(context, argc, argv, &error)) {
    PrintError(error->message);
    std::fprintf(stderr, _("Try '%s --help'.\n"), (*argv)[0]);
    g_clear_error(&error);
    *exit_code = 2;
    return false;
  }
  return true;
}

}  // namespace nmks::cli
