#include "dispatcher/check.h"

#include "base/i18n.h"

namespace nmks::dispatch {

bool IsConnectionEvent(Action action) {
  return action == Action::kPreUp || action == Action::kVpnPreUp ||
         action == Action::kPreDown || action == Action::kVpnPreDown;
}

int CheckTable(const Event& e, const std::function<Result<bool>()>& guard_running,
               const std::function<Result<std::string>()>& repair, const Log& log) {
  auto running = guard_running();
  if (!running.ok()) {
    log(Format(_("%s: cannot ask whether nm-killswitch-guard runs: %s"), ActionName(e.action),
               running.message().c_str()));
    return 1;
  }
  if (!running.value()) return 0;  // nothing is engaged, or systemd restarts it anyway
  auto repaired = repair();
  if (!repaired.ok()) {
    log(Format(_("%s: the guard could not check the kill-switch table: %s"), ActionName(e.action),
               repaired.message().c_str()));
    return 1;
  }
  if (!repaired.value().empty()) {
    log(Format(_("%s on %s: the kill-switch table differed from the engaged policy (%s); "
                 "repaired"),
               ActionName(e.action), e.iface.c_str(), repaired.value().c_str()));
  }
  return 0;
}

}  // namespace nmks::dispatch
