// What the hook does on every event but a connection's own pre-up and
// pre-down: ask the guard, if it runs, to check the table and repair it.
// This part needs no libnm, so nm-killswitch-dispatcher, the program
// NetworkManager runs on these frequent events (up, down, dhcp4-change,
// connectivity-change, ...), starts without loading it; the events that
// read the connection go to nm-killswitch-dispatcher-connection
// (see dispatcher/hook.h).
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "dispatcher/event.h"

namespace nmks::dispatch {

using Log = std::function<void(const std::string& line)>;

// pre-up, pre-down, vpn-pre-up, vpn-pre-down: the events that engage or
// release a connection (and read it).
bool IsConnectionEvent(Action action);

// Asks the guard to check the table when `guard_running` says it runs;
// logs what was repaired or what failed. Returns the hook's exit code.
int CheckTable(const Event& e, const std::function<Result<bool>()>& guard_running,
               const std::function<Result<std::string>()>& repair, const Log& log);

}  // namespace nmks::dispatch
