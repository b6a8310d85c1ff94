#include "guard/bus_name.h"

#include <glib-unix.h>

#include <csignal>

namespace nmks {

NameOwner::NameOwner(GDBusConnection* bus, const char* name, GMainLoop* loop,
                     const char* lost_format)
    : loop_(loop), lost_format_(lost_format) {
  id_ = g_bus_own_name_on_connection(
      bus, name, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE,
      [](GDBusConnection*, const gchar* n, gpointer) { g_message("serving %s", n); },
      [](GDBusConnection*, const gchar* n, gpointer data) {
        auto* self = static_cast<NameOwner*>(data);
        g_critical(self->lost_format_.c_str(), n);
        self->exit_code_ = 1;
        g_main_loop_quit(self->loop_);
      },
      this, nullptr);
}

void NameOwner::Release() {
  if (id_ != 0) g_bus_unown_name(id_);
  id_ = 0;
}

void QuitOnSignals(GMainLoop* loop, const char* message) {
  struct Quit {
    GMainLoop* loop;
    const char* message;
  };
  auto* quit = new Quit{loop, message};  // lives as long as the process
  auto on_signal = [](gpointer data) -> gboolean {
    auto* q = static_cast<Quit*>(data);
    if (q->message != nullptr) g_message("%s", q->message);
    g_main_loop_quit(q->loop);
    return G_SOURCE_REMOVE;
  };
  g_unix_signal_add(SIGTERM, on_signal, quit);
  g_unix_signal_add(SIGINT, on_signal, quit);
}

}  // namespace nmks
