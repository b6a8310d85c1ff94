// Owning a well-known name on the bus for as long as a process serves it,
// and stopping on SIGTERM and SIGINT: what the guard and the front share.
#pragma once

#include <gio/gio.h>

#include <string>

namespace nmks {

class NameOwner {
 public:
  // Asks for `name` on `bus` (not queued). If it cannot be had or is lost,
  // logs `lost_format` (one %s: the name) as critical and quits `loop`.
  NameOwner(GDBusConnection* bus, const char* name, GMainLoop* loop, const char* lost_format);
  ~NameOwner() { Release(); }
  NameOwner(const NameOwner&) = delete;
  NameOwner& operator=(const NameOwner&) = delete;

  // Gives the name up now (a new call then goes to the next owner).
  void Release();
  // 1 if the name could not be had or was lost, else 0.
  int exit_code() const { return exit_code_; }

 private:
  GMainLoop* loop_;
  std::string lost_format_;
  guint id_ = 0;
  int exit_code_ = 0;
};

// Quits `loop` on SIGTERM or SIGINT, logging `message` first if not null.
void QuitOnSignals(GMainLoop* loop, const char* message);

}  // namespace nmks
