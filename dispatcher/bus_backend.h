// The hook's Backend on the system bus: NetworkManager's settings and
// devices, the guard (guard/client.h), the system resolver. Every call has
// a timeout, so NetworkManager, which waits for the hook at pre-up and
// pre-down, is never held up for long.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dispatcher/hook.h"
#include "guard/client.h"

namespace nmks::dispatch {

struct Timeouts {
  int network_manager_ms = 3000;
  int guard_ms = 5000;
  std::chrono::milliseconds resolve{3000};
};

class BusBackend : public Backend {
 public:
  explicit BusBackend(Timeouts timeouts = {}) : timeouts_(timeouts) {}
  ~BusBackend() override;

  Result<ConnectionPtr> Settings(const std::string& path) override;
  Result<ConnectionPtr> SavedSettings(const std::string& filename) override;
  Result<uint32_t> DeviceStateReason(const std::string& iface) override;
  Resolution Resolve(const std::vector<Remote>& remotes) override;
  Result<bool> GuardRunning() override;
  Result<std::optional<Policy>> Engaged(const std::string& connection) override;
  Status Engage(const std::string& connection, const Policy& policy, bool block_at_boot) override;
  Status Release(const std::string& connection) override;
  Result<std::string> Repair() override;

 private:
  Result<GDBusConnection*> Bus();
  // The guard, started by D-Bus activation if need be (auto_start) or not.
  Result<GuardClient*> Guard(bool auto_start);

  Timeouts timeouts_;
  GDBusConnection* bus_ = nullptr;
  std::unique_ptr<GuardClient> guard_;
  bool guard_auto_start_ = false;
};

}  // namespace nmks::dispatch
