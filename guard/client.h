// A client of nm-killswitch-guard on the system bus, for the command, the
// VPN plugin and the dispatcher hook. Calls are synchronous; every failure
// comes back as a Status whose message a user can act on.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "guard-dbus.h"
#include "guard/policy_variant.h"
#include "rules/policy.h"
#include "rules/status.h"

namespace nmks {

class GuardClient {
 public:
  // Connects to the guard on the system bus named by DBUS_SYSTEM_BUS_ADDRESS
  // (D-Bus activation starts it when it is installed).
  static Result<std::unique_ptr<GuardClient>> Connect();
  ~GuardClient();
  GuardClient(const GuardClient&) = delete;
  GuardClient& operator=(const GuardClient&) = delete;

  Status Engage(const std::string& connection, const Policy& policy, bool block_at_boot);
  Status Release(const std::string& connection);
  Status ReleaseAll();
  Status SetBlockAtBoot(const std::string& connection, bool enabled);
  Result<VariantPtr> GetStatus();
  struct Findings {
    bool ok = false;
    std::vector<std::string> lines;
  };
  Result<Findings> Verify();

 private:
  explicit GuardClient(NmksDBusGuard1* proxy) : proxy_(proxy) {}
  NmksDBusGuard1* proxy_;
};

// The message of a failed call, without D-Bus decoration. Consumes nothing.
std::string GuardCallError(GError* error);

}  // namespace nmks
