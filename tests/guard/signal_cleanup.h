// What a test run killed by SIGTERM, SIGINT or SIGHUP (meson's timeout,
// Ctrl-C) would leave behind before destructors can run. Its handler kills
// the PIDs registered here (polkitd drops PR_SET_PDEATHSIG when it changes
// user) and removes the registered temp dirs, with async-signal-safe calls
// only, then hands the signal on to the handler it found (the world
// library's, which deletes network namespaces) and dies of it.
#pragma once

#include <sys/types.h>

#include <string>

namespace nmks::guardtest {

class SignalCleanup {
 public:
  static void AddPid(pid_t pid);
  static void RemovePid(pid_t pid);
  static void AddDir(const std::string& path);  // at most 127 bytes
  static void RemoveDir(const std::string& path);
  // In a forked child before exec: none of this is the child's business.
  static void ForgetInChild();
};

}  // namespace nmks::guardtest
