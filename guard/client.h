// A client of nm-killswitch-guard on the system bus, for the command, the
// VPN plugin and the dispatcher hook. Calls are synchronous; every failure
// comes back as a Status whose message a user can act on.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "guard-dbus.h"
#include "guard/guard_status.h"
#include "guard/policy_variant.h"
#include "rules/policy.h"

namespace nmks {

class GuardClient {
 public:
  struct Options {
    // How long one call may take. The default leaves an administrator time
    // to answer a polkit password prompt; the dispatcher hook, which runs
    // as root while NetworkManager waits, asks for seconds.
    int timeout_ms = 5 * 60 * 1000;
    // false: a call fails at once when the guard is not running, instead of
    // having D-Bus start it (for calls that have nothing to do then).
    bool auto_start = true;
  };
  // Connects to the guard on the system bus named by DBUS_SYSTEM_BUS_ADDRESS
  // (D-Bus activation starts it when it is installed).
  static Result<std::unique_ptr<GuardClient>> Connect();
  static Result<std::unique_ptr<GuardClient>> Connect(const Options& options);
  ~GuardClient();
  GuardClient(const GuardClient&) = delete;
  GuardClient& operator=(const GuardClient&) = delete;

  Status Engage(const std::string& connection, const Policy& policy, bool block_at_boot);
  Status Release(const std::string& connection);
  Status ReleaseAll();
  Status SetBlockAtBoot(const std::string& connection, bool enabled);
  // Bounded: each connection with a sample of its endpoints.
  Result<GuardStatus> GetStatus();
  // The whole policy engaged for `connection`; none when it is not engaged.
  Result<std::optional<Policy>> GetPolicy(const std::string& connection);
  struct Findings {
    bool ok = false;
    std::vector<std::string> lines;
  };
  Result<Findings> Verify();
  // Reads the table back and reinstalls the engaged policy where it differs;
  // what differed, "" if nothing did.
  Result<std::string> Repair();
  // Whether the guard owns its name on the system bus now; asks the bus and
  // never starts the guard.
  static Result<bool> IsRunning(int timeout_ms);

 private:
  explicit GuardClient(NmksDBusGuard1* proxy) : proxy_(proxy) {}
  NmksDBusGuard1* proxy_;
};

// The message of a failed call, without D-Bus decoration. Consumes nothing.
std::string GuardCallError(GError* error);

}  // namespace nmks
