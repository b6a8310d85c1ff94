// A hostile caller for the flood test: sends COUNT calls of METHOD to
// DESTINATION on the system bus (DBUS_SYSTEM_BUS_ADDRESS), each carrying a
// policy with ENDPOINTS endpoints (1,000,000 come to 32 MB, the largest
// message a system bus takes), all at once, and prints how each call ended:
// "ok" or the D-Bus error name. Run as an unprivileged user.
//
//   bus-flood DESTINATION METHOD ENDPOINTS COUNT
#include <gio/gio.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Calls {
  int pending = 0;
  GMainLoop* loop = nullptr;
};

void OnReply(GObject* source, GAsyncResult* res, gpointer data) {
  auto* calls = static_cast<Calls*>(data);
  GError* error = nullptr;
  GVariant* reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
  if (reply != nullptr) {
    std::printf("ok\n");
    g_variant_unref(reply);
  } else {
    g_autofree gchar* name = g_dbus_error_get_remote_error(error);
    std::printf("%s\n", name != nullptr ? name : error->message);
    g_clear_error(&error);
  }
  if (--calls->pending == 0) g_main_loop_quit(calls->loop);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: bus-flood DESTINATION METHOD ENDPOINTS COUNT\n");
    return 2;
  }
  const char* destination = argv[1];
  const char* method = argv[2];
  const size_t endpoints = std::strtoul(argv[3], nullptr, 10);
  const int count = std::atoi(argv[4]);
  GError* error = nullptr;
  GDBusConnection* bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, nullptr, &error);
  if (bus == nullptr) {
    std::fprintf(stderr, "bus-flood: %s\n", error->message);
    return 1;
  }
  // One endpoint referenced `endpoints` times: cheap here, full size on the wire.
  GVariant* one = g_variant_ref_sink(g_variant_new("(ssqu)", "203.0.113.7", "udp", 51820, 0));
  std::vector<GVariant*> children(endpoints, one);
  GVariantBuilder policy;
  g_variant_builder_init(&policy, G_VARIANT_TYPE_VARDICT);
  const char* tunnels[] = {"tun0", nullptr};
  g_variant_builder_add(&policy, "{sv}", "tunnels", g_variant_new_strv(tunnels, -1));
  g_variant_builder_add(
      &policy, "{sv}", "endpoints",
      g_variant_new_array(G_VARIANT_TYPE("(ssqu)"), children.data(), children.size()));
  GVariant* params = g_variant_ref_sink(g_variant_new("(sa{sv})", "flood", &policy));
  Calls calls{count, g_main_loop_new(nullptr, FALSE)};
  for (int i = 0; i < count; ++i) {
    g_dbus_connection_call(bus, destination, "/io/github/nmkillswitch/Guard1",
                           "io.github.nmkillswitch.Guard1", method, params, nullptr,
                           G_DBUS_CALL_FLAGS_NO_AUTO_START, 120000, nullptr, OnReply, &calls);
  }
  if (count > 0) g_main_loop_run(calls.loop);
  g_main_loop_unref(calls.loop);
  g_variant_unref(params);
  g_variant_unref(one);
  g_object_unref(bus);
  return 0;
}
