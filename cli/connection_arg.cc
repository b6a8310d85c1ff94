#include "cli/connection_arg.h"

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "base/i18n.h"

namespace nmks::cli {
namespace {

std::string Printable(const char* text) {
  std::string out;
  for (const char* p = text ? text : ""; *p && out.size() < 64; ++p) {
    out += (static_cast<unsigned char>(*p) >= 0x20 && *p != 0x7f) ? *p : '?';
  }
  return out;
}

struct Saved {
  GMainLoop* loop = nullptr;
  bool ok = false;
  GError* error = nullptr;
};

void OnSaved(GObject* source, GAsyncResult* result, gpointer data) {
  auto* saved = static_cast<Saved*>(data);
  saved->ok = nm_remote_connection_commit_changes_finish(NM_REMOTE_CONNECTION(source), result,
                                                         &saved->error);
  g_main_loop_quit(saved->loop);
}

}  // namespace

Result<ClientPtr> ConnectNetworkManager() {
  GError* error = nullptr;
  NMClient* client = nm_client_new(nullptr, &error);
  if (client == nullptr) {
    std::string msg = error ? error->message : "";
    g_clear_error(&error);
    return Status::Error(Format(_("cannot reach NetworkManager: %s"), msg.c_str()));
  }
  ClientPtr owned(client);
  if (!nm_client_get_nm_running(client)) {
    return Status::Error(_("NetworkManager is not running"));
  }
  return owned;
}

Result<NMRemoteConnection*> FindConnection(NMClient* client, const std::string& name) {
  const GPtrArray* all = nm_client_get_connections(client);
  std::vector<NMRemoteConnection*> by_id;
  for (guint i = 0; i < all->len; ++i) {
    auto* c = NM_REMOTE_CONNECTION(g_ptr_array_index(all, i));
    NMConnection* conn = NM_CONNECTION(c);
    const char* uuid = nm_connection_get_uuid(conn);
    const char* path = nm_connection_get_path(conn);
    if ((uuid && name == uuid) || (path && name == path)) return c;
    const char* id = nm_connection_get_id(conn);
    if (id && name == id) by_id.push_back(c);
  }
  if (by_id.size() == 1) return by_id.front();
  if (by_id.empty()) {
    return Status::Error(Format(_("NetworkManager has no connection \"%s\" (name, UUID or path); "
                                  "see nmcli connection show"),
                                Printable(name.c_str()).c_str()));
  }
  std::string uuids;
  for (auto* c : by_id) uuids += std::string(" ") + nm_connection_get_uuid(NM_CONNECTION(c));
  return Status::Error(Format(_("%zu connections are named \"%s\"; name one by its UUID:%s"),
                              by_id.size(), Printable(name.c_str()).c_str(), uuids.c_str()));
}

Result<NamedConnection> ConnectAndFind(const std::string& name) {
  auto client = ConnectNetworkManager();
  if (!client.ok()) return client.status();
  auto connection = FindConnection(client.value().get(), name);
  if (!connection.ok()) return connection.status();
  return NamedConnection{std::move(client).value(), connection.value(),
                         ConnectionName(connection.value())};
}

Status SaveConnection(NMRemoteConnection* connection) {
  Saved saved;
  GMainContext* context = g_main_context_get_thread_default();
  saved.loop = g_main_loop_new(context, FALSE);
  nm_remote_connection_commit_changes_async(connection, TRUE, nullptr, OnSaved, &saved);
  g_main_loop_run(saved.loop);
  g_main_loop_unref(saved.loop);
  if (saved.ok) return Status::Ok();
  std::string name = ConnectionName(connection);
  std::string msg = saved.error ? saved.error->message : _("unknown error");
  bool denied = g_error_matches(saved.error, NM_SETTINGS_ERROR, NM_SETTINGS_ERROR_PERMISSION_DENIED);
  g_clear_error(&saved.error);
  if (denied) {
    return Status::Error(Format(
        _("NetworkManager refused to change \"%s\": %s. Changing a system connection or another "
          "user's needs NetworkManager's permission (polkit: "
          "org.freedesktop.NetworkManager.settings.modify.system); nothing was changed"),
        name.c_str(), msg.c_str()));
  }
  return Status::Error(Format(_("NetworkManager could not save \"%s\": %s; nothing was changed"),
                              name.c_str(), msg.c_str()));
}

bool IsActive(NMClient* client, NMRemoteConnection* connection) {
  const GPtrArray* active = nm_client_get_active_connections(client);
  const char* uuid = nm_connection_get_uuid(NM_CONNECTION(connection));
  for (guint i = 0; i < active->len; ++i) {
    auto* ac = NM_ACTIVE_CONNECTION(g_ptr_array_index(active, i));
    const char* u = nm_active_connection_get_uuid(ac);
    if (u && uuid && std::strcmp(u, uuid) == 0) return true;
  }
  return false;
}

std::string ConnectionName(NMRemoteConnection* connection) {
  return Printable(nm_connection_get_id(NM_CONNECTION(connection)));
}

}  // namespace nmks::cli
