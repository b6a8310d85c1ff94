// nm-killswitch-dispatcher-connection: the NetworkManager dispatcher hook
// for a connection's own pre-up, vpn-pre-up, pre-down and vpn-pre-down
// (NetworkManager runs it from pre-up.d and pre-down.d and waits for it):
// reads the connection and engages or releases the kill switch of an
// opted-in OpenVPN, OpenConnect or NetworkManager WireGuard connection (see
// dispatcher/hook.h). Every other event goes to nm-killswitch-dispatcher,
// which starts without libnm. Run as root with (interface, action) and a
// fresh environment.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/i18n.h"
#include "dispatcher/bus_backend.h"
#include "dispatcher/event.h"
#include "dispatcher/hook.h"

int main(int argc, char** argv) {
  nmks::InitTranslations();
  auto event = nmks::dispatch::StartHookProgram(argc, argv);
  if (!event.ok()) return 2;
  nmks::dispatch::BusBackend backend;
  return nmks::dispatch::RunHook(event.value(), backend, [](const std::string& line) {
    std::fprintf(stderr, "nm-killswitch-dispatcher: %s\n", line.c_str());
  });
}
