#include "editor/remote_secrets.h"

#include "base/glib_ptr.h"
#include "base/i18n.h"

namespace nmks::wg {
namespace {

struct SecretsCall {
  GMainLoop* loop = nullptr;
  GVariant* secrets = nullptr;
  GError* error = nullptr;
};

void SecretsArrived(GObject* source, GAsyncResult* result, gpointer data) {
  auto* call = static_cast<SecretsCall*>(data);
  call->secrets =
      nm_remote_connection_get_secrets_finish(NM_REMOTE_CONNECTION(source), result, &call->error);
  g_main_loop_quit(call->loop);
}

}  // namespace

Status FetchVpnSecrets(NMRemoteConnection* remote, NMConnection* into) {
  NMClient* client = nm_object_get_client(NM_OBJECT(remote));
  if (!client) {
    return Status::Error(_("the connection is no longer known to NetworkManager"));
  }
  GMainContext* context = nm_client_get_main_context(client);
  if (!g_main_context_acquire(context)) {
    return Status::Error(_("cannot wait for NetworkManager's answer in this thread"));
  }
  GMainLoopPtr loop(g_main_loop_new(context, FALSE));
  SecretsCall call;
  call.loop = loop.get();
  nm_remote_connection_get_secrets_async(remote, NM_SETTING_VPN_SETTING_NAME, nullptr,
                                         SecretsArrived, &call);
  g_main_loop_run(loop.get());
  g_main_context_release(context);

  GVariantPtr secrets(call.secrets);
  GErrorPtr error(call.error);
  if (!secrets) {
    return Status::Error(Format(_("NetworkManager did not give the connection's keys: %s"),
                                error ? error->message : _("no answer")));
  }
  GError* update_error = nullptr;
  if (!nm_connection_update_secrets(into, NM_SETTING_VPN_SETTING_NAME, secrets.get(),
                                    &update_error)) {
    GErrorPtr owned(update_error);
    return Status::Error(
        Format(_("the keys NetworkManager gave do not fit the connection: %s"), owned->message));
  }
  return Status::Ok();
}

}  // namespace nmks::wg
