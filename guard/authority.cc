#include "guard/authority.h"

#include <memory>
#include <utility>

#include "base/i18n.h"

namespace nmks {
namespace {

struct Pending {
  GDBusConnection* bus;
  std::string sender;
  std::string action;
  Authority::Done done;
};

Status Refused(const std::string& action) {
  return Status::Error(Format(_("not authorized: this needs the permission %s (ask an "
                                "administrator, or run the command as root)"),
                              action.c_str()));
}

// The reply of a finished bus call, or null with *why set to the bus's message.
GVariant* FinishCall(GObject* source, GAsyncResult* res, std::string* why) {
  GError* error = nullptr;
  GVariant* reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), res, &error);
  if (reply == nullptr) {
    *why = error ? error->message : "";
    g_clear_error(&error);
  }
  return reply;
}

void OnPolkitReply(GObject* source, GAsyncResult* res, gpointer data) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(data));
  std::string why;
  GVariant* reply = FinishCall(source, res, &why);
  if (reply == nullptr) {
    p->done(Status::Error(
        Format(_("cannot ask polkit whether this is allowed (%s): refused"), why.c_str())));
    return;
  }
  gboolean authorized = FALSE, challenge = FALSE;
  g_variant_get(reply, "((bb@a{ss}))", &authorized, &challenge, nullptr);
  g_variant_unref(reply);
  p->done(authorized ? Status::Ok() : Refused(p->action));
}

void OnUnixUser(GObject* source, GAsyncResult* res, gpointer data) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(data));
  std::string why;
  GVariant* reply = FinishCall(source, res, &why);
  if (reply == nullptr) {
    p->done(Status::Error(Format(_("cannot tell who is asking (%s): refused"), why.c_str())));
    return;
  }
  guint32 uid = 1;
  g_variant_get(reply, "(u)", &uid);
  g_variant_unref(reply);
  if (uid == 0) {
    p->done(Status::Ok());
    return;
  }
  if (p->action.empty()) {
    p->done(Status::Error(_("not authorized: only root may relay calls to the guard")));
    return;
  }
  GVariantBuilder subject_details;
  g_variant_builder_init(&subject_details, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&subject_details, "{sv}", "name", g_variant_new_string(p->sender.c_str()));
  GVariantBuilder details;
  g_variant_builder_init(&details, G_VARIANT_TYPE("a{ss}"));
  constexpr guint32 kAllowUserInteraction = 1;
  GDBusConnection* bus = p->bus;
  GVariant* args = g_variant_new("((sa{sv})sa{ss}us)", "system-bus-name", &subject_details,
                                 p->action.c_str(), &details, kAllowUserInteraction, "");
  g_dbus_connection_call(bus, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
                         "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", args,
                         G_VARIANT_TYPE("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE,
                         5 * 60 * 1000 /* an administrator may take a while to type */, nullptr,
                         OnPolkitReply, p.release());
}

}  // namespace

void Authority::Check(const std::string& sender, const std::string& action, Done done) {
  auto* p = new Pending{bus_, sender, action, std::move(done)};
  g_dbus_connection_call(bus_, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                         "org.freedesktop.DBus", "GetConnectionUnixUser",
                         g_variant_new("(s)", sender.c_str()), G_VARIANT_TYPE("(u)"),
                         G_DBUS_CALL_FLAGS_NONE, -1, nullptr, OnUnixUser, p);
}

}  // namespace nmks
