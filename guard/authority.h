// Decides whether the caller of a method may do what it asks. Root may do
// anything; everyone else is asked of polkit (CheckAuthorization with the
// caller's bus name as subject, interaction allowed). Any failure to get an
// answer is a refusal. Used by the guard and by nm-killswitch-front.
#pragma once

#include <gio/gio.h>

#include <functional>
#include <string>

#include "base/status.h"

namespace nmks {

inline constexpr char kActionConfigure[] = "io.github.nmkillswitch.configure";
inline constexpr char kActionRelease[] = "io.github.nmkillswitch.release";
inline constexpr char kActionReleaseLockdown[] = "io.github.nmkillswitch.release-lockdown";
inline constexpr char kActionBoot[] = "io.github.nmkillswitch.boot";

class Authority {
 public:
  explicit Authority(GDBusConnection* bus) : bus_(bus) {}
  using Done = std::function<void(Status)>;
  // Calls `done` exactly once, later, from the main loop. `sender` is a bus
  // name; with `action` empty only root is allowed (no polkit).
  void Check(const std::string& sender, const std::string& action, Done done);

 private:
  GDBusConnection* bus_;  // not owned; outlives this
};

}  // namespace nmks
