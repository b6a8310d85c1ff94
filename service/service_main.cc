// nm-killswitch-service: the NetworkManager VPN service for WireGuard with
// the kill switch built in. NetworkManager starts it (see the .name file)
// with --bus-name for each connection; libnm's NMVpnServicePlugin does the
// D-Bus side, Service (service.h) does the work.
#include <glib-unix.h>
#include "base/libnm.h"

#include <cstdio>
#include <memory>
#include <string>

#include "base/i18n.h"
#include "base/options.h"
#include "base/status.h"
#include "service/service.h"
#include "wireguard/wg_connection.h"

namespace {

// The GObject: an NMVpnServicePlugin whose virtual methods call Service.
struct NmksService {
  NMVpnServicePlugin parent;
  nmks::wg::Service* service;
};
struct NmksServiceClass {
  NMVpnServicePluginClass parent;
};

GType nmks_service_get_type();
#define NMKS_SERVICE(o) (G_TYPE_CHECK_INSTANCE_CAST((o), nmks_service_get_type(), NmksService))

G_DEFINE_TYPE(NmksService, nmks_service, NM_TYPE_VPN_SERVICE_PLUGIN)

void SetError(GError** error, int code, const std::string& message) {
  g_set_error_literal(error, NM_VPN_PLUGIN_ERROR, code, message.c_str());
}

struct PendingConfig {
  NMVpnServicePlugin* plugin;
  nmks::wg::NmConfig config;
};

// Sent once Connect has returned: libnm starts its 60 s connect timer after
// the connect method returns and stops it when the configuration arrives,
// so configuration sent from inside connect would let the timer run out and
// take the tunnel down a minute later.
gboolean SendConfig(gpointer data) {
  std::unique_ptr<PendingConfig> p(static_cast<PendingConfig*>(data));
  nm_vpn_service_plugin_set_config(p->plugin, p->config.general);
  if (p->config.ip4) nm_vpn_service_plugin_set_ip4_config(p->plugin, p->config.ip4);
  if (p->config.ip6) nm_vpn_service_plugin_set_ip6_config(p->plugin, p->config.ip6);
  g_variant_unref(p->config.general);
  if (p->config.ip4) g_variant_unref(p->config.ip4);
  if (p->config.ip6) g_variant_unref(p->config.ip6);
  g_object_unref(p->plugin);
  return G_SOURCE_REMOVE;
}

gboolean RealConnect(NMVpnServicePlugin* plugin, NMConnection* connection, GError** error) {
  NmksService* self = NMKS_SERVICE(plugin);
  auto config = self->service->Connect(connection);
  if (!config.ok()) {
    g_warning("%s", config.message().c_str());
    SetError(error, NM_VPN_PLUGIN_ERROR_LAUNCH_FAILED, config.message());
    return FALSE;
  }
  auto* pending = new PendingConfig{NM_VPN_SERVICE_PLUGIN(g_object_ref(plugin)), config.value()};
  g_variant_ref_sink(pending->config.general);
  if (pending->config.ip4) g_variant_ref_sink(pending->config.ip4);
  if (pending->config.ip6) g_variant_ref_sink(pending->config.ip6);
  g_idle_add(SendConfig, pending);
  return TRUE;
}

gboolean RealNeedSecrets(NMVpnServicePlugin* plugin, NMConnection* connection,
                         const char** setting_name, GError** error) {
  NmksService* self = NMKS_SERVICE(plugin);
  if (nm_connection_get_setting_vpn(connection) == nullptr) {
    SetError(error, NM_VPN_PLUGIN_ERROR_INVALID_CONNECTION, _("the connection has no VPN setting"));
    return FALSE;
  }
  if (self->service->NeedsSecrets(connection)) {
    *setting_name = NM_SETTING_VPN_SETTING_NAME;
    return TRUE;
  }
  return FALSE;
}

gboolean RealDisconnect(NMVpnServicePlugin* plugin, GError**) {
  NMKS_SERVICE(plugin)->service->Disconnect();
  return TRUE;
}

void nmks_service_init(NmksService* self) { self->service = nullptr; }

void Finalize(GObject* object) {
  NmksService* self = NMKS_SERVICE(object);
  delete self->service;
  self->service = nullptr;
  G_OBJECT_CLASS(nmks_service_parent_class)->finalize(object);
}

void nmks_service_class_init(NmksServiceClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = Finalize;
  NMVpnServicePluginClass* parent = NM_VPN_SERVICE_PLUGIN_CLASS(klass);
  parent->connect = RealConnect;
  parent->need_secrets = RealNeedSecrets;
  parent->disconnect = RealDisconnect;
}

struct Options {
  gchar* bus_name = nullptr;
  gboolean persist = FALSE;
  gboolean debug = FALSE;
  ~Options() { g_free(bus_name); }
};

}  // namespace

int main(int argc, char** argv) {
  nmks::InitTranslations();
  Options o;
  GOptionEntry entries[] = {
      {"persist", 0, 0, G_OPTION_ARG_NONE, &o.persist, N_("Do not quit when disconnected"),
       nullptr},
      {"debug", 0, 0, G_OPTION_ARG_NONE, &o.debug,
       N_("Keep running when NetworkManager leaves the bus"), nullptr},
      {"bus-name", 0, 0, G_OPTION_ARG_STRING, &o.bus_name, N_("D-Bus name to use"), N_("NAME")},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (nmks::Status s = nmks::ParseOptions(
          nullptr,
          _("The NetworkManager VPN service of nm-killswitch: WireGuard with a kill switch."),
          entries, &argc, &argv);
      !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }

  const char* bus_name = o.bus_name ? o.bus_name : nmks::wg::kServiceType;
  GError* error = nullptr;
  GObject* object = static_cast<GObject*>(g_initable_new(
      nmks_service_get_type(), nullptr, &error, NM_VPN_SERVICE_PLUGIN_DBUS_SERVICE_NAME, bus_name,
      NM_VPN_SERVICE_PLUGIN_DBUS_WATCH_PEER, !o.debug, nullptr));
  if (object == nullptr) {
    g_warning("cannot serve %s: %s", bus_name, error ? error->message : "");
    g_clear_error(&error);
    return 1;
  }
  NmksService* service = NMKS_SERVICE(object);
  GDBusConnection* bus = nm_vpn_service_plugin_get_connection(NM_VPN_SERVICE_PLUGIN(object));
  service->service = new nmks::wg::Service(bus);

  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  if (!o.persist) {
    g_signal_connect_swapped(object, "quit", G_CALLBACK(g_main_loop_quit), loop);
  }
  auto quit = [](gpointer data) -> gboolean {
    g_main_loop_quit(static_cast<GMainLoop*>(data));
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add(SIGTERM, quit, loop);
  g_unix_signal_add(SIGINT, quit, loop);
  g_main_loop_run(loop);

  // Take the tunnel down (the kill switch stays as the ending decides), and
  // let every queued message reach NetworkManager before the process goes.
  nm_vpn_service_plugin_shutdown(NM_VPN_SERVICE_PLUGIN(object));
  if (bus) g_dbus_connection_flush_sync(bus, nullptr, nullptr);
  g_main_loop_unref(loop);
  g_object_unref(object);
  return 0;
}
