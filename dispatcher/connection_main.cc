// nm-killswitch-dispatcher-connection: the NetworkManager dispatcher hook
// for a connection's own pre-up, vpn-pre-up, pre-down and vpn-pre-down
// (NetworkManager runs it from pre-up.d and pre-down.d and waits for it):
// reads the connection and engages or releases the kill switch of an
// opted-in OpenVPN, OpenConnect or NetworkManager WireGuard connection (see
// dispatcher/hook.h). Every other event goes to nm-killswitch-dispatcher,
// which starts without libnm. Run as root with (interface, action) and a
// fresh environment.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/i18n.h"
#include "dispatcher/bus_backend.h"
#include "dispatcher/event.h"
#include "dispatcher/hook.h"

namespace {

// Whatever hangs, NetworkManager (which waits for pre-up and pre-down
// scripts) is not held up longer than this.
constexpr unsigned kHardLimitSeconds = 20;

void OnAlarm(int) {
  static const char kMessage[] =
      "nm-killswitch-dispatcher: gave up after 20 s so as not to hold NetworkManager up; the "
      "kill switch is as it was\n";
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
  _exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  nmks::InitTranslations();
  signal(SIGALRM, OnAlarm);
  alarm(kHardLimitSeconds);
  auto event = nmks::dispatch::ReadEvent(argc, argv, [](const char* name) { return getenv(name); });
  if (!event.ok()) {
    std::fprintf(stderr, _("nm-killswitch-dispatcher: %s; the event is ignored and nothing was "
                           "changed\n"),
                 event.message().c_str());
    return 2;
  }
  nmks::dispatch::BusBackend backend;
  return nmks::dispatch::RunHook(event.value(), backend, [](const std::string& line) {
    std::fprintf(stderr, "nm-killswitch-dispatcher: %s\n", line.c_str());
  });
}
