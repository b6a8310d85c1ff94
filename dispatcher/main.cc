// nm-killswitch-dispatcher: the NetworkManager dispatcher hook for every
// event but a connection's own pre-up and pre-down (NetworkManager runs it
// from dispatcher.d on up, down, dhcp4-change, connectivity-change, ...):
// asks the guard, if it runs, to check the kill-switch table and repair it
// (dispatcher/check.h). It links no libnm, so these frequent events cost
// little; pre-up, vpn-pre-up, pre-down and vpn-pre-down, which read the
// connection, are handed to nm-killswitch-dispatcher-connection next to it
// (NetworkManager runs that one from pre-up.d and pre-down.d directly).
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "base/i18n.h"
#include "base/program.h"
#include "dispatcher/check.h"
#include "dispatcher/event.h"
#include "guard/client.h"

namespace {

// How long the guard may take to check the table (the whole program gives
// up after 20 s: StartHookProgram).
constexpr int kGuardTimeoutMs = 5000;

void Log(const std::string& line) {
  std::fprintf(stderr, "nm-killswitch-dispatcher: %s\n", line.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  nmks::InitTranslations();
  auto event = nmks::dispatch::StartHookProgram(argc, argv);
  if (!event.ok()) return 2;
  const nmks::dispatch::Event& e = event.value();
  if (e.action == nmks::dispatch::Action::kHostname) return 0;
  if (nmks::dispatch::IsConnectionEvent(e.action)) {
    // The program for the connection's own events, in this program's directory.
    const std::string hook = nmks::ProgramBesideThisOne("nm-killswitch-dispatcher-connection");
    if (!hook.empty()) execv(hook.c_str(), argv);
    Log(nmks::Format(
        _("%s: cannot run %s: %s; nothing was changed"), nmks::dispatch::ActionName(e.action),
        hook.empty() ? "nm-killswitch-dispatcher-connection" : hook.c_str(), std::strerror(errno)));
    return 1;
  }
  std::unique_ptr<nmks::GuardClient> guard;
  return nmks::dispatch::CheckTable(
      e, [] { return nmks::GuardClient::IsRunning(kGuardTimeoutMs); },
      [&guard]() -> nmks::Result<std::string> {
        nmks::GuardClient::Options o;
        o.timeout_ms = kGuardTimeoutMs;
        o.auto_start = false;
        auto client = nmks::GuardClient::Connect(o);
        if (!client.ok()) return client.status();
        guard = std::move(client).value();
        return guard->Repair();
      },
      Log);
}
