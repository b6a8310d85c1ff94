// What the dispatcher hook does for one event. NetworkManager runs it for
// every event (and waits for it at pre-up, vpn-pre-up, pre-down and
// vpn-pre-down); everything it touches goes through a Backend, so the
// decisions can be tested without NetworkManager and the guard.
//
//   vpn-pre-up (VPN plugins), pre-up (NetworkManager's own WireGuard):
//       for an opted-in OpenVPN, OpenConnect or WireGuard connection:
//       engage the kill switch under the connection's UUID, with its VPN
//       interface as the tunnel and its servers as the endpoints. Names
//       that do not resolve open nothing: the endpoints the guard already
//       allows for the connection are kept instead; with no endpoint at all
//       the table is engaged anyway, blocking even the VPN (fail closed).
//       When NetworkManager cannot be asked, the connection is read from
//       its keyfile; when a value of the event cannot be read, the kill
//       switch is engaged without a tunnel and with the LAN blocked.
//   vpn-pre-down, pre-down (the user switched the connection off; for
//       WireGuard only when the device says so): release the connection
//       if the guard holds it in mode on; lockdown stays.
//   every other event: ask the guard to check the table and repair it,
//       if the guard is running.
//
// Our own plugin's connections (it engages itself) and connections nobody
// opted in are left alone. Nothing is opened on any error.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/glib_ptr.h"
#include "base/libnm.h"
#include "dispatcher/check.h"
#include "dispatcher/event.h"
#include "rules/policy.h"
#include "servers/resolve.h"

namespace nmks::dispatch {

using ConnectionPtr = GObjectPtr<NMConnection>;

// NetworkManager's NMDeviceStateReason values the hook looks at.
inline constexpr uint32_t kReasonUserRequested = 39;
inline constexpr uint32_t kReasonConnectionRemoved = 38;

class Backend {
 public:
  virtual ~Backend() = default;
  // The connection's settings (no secrets) from NetworkManager.
  virtual Result<ConnectionPtr> Settings(const std::string& path) = 0;
  // The same from the profile's keyfile (CONNECTION_FILENAME), when
  // NetworkManager cannot be asked (dispatcher/connection_file.h).
  virtual Result<ConnectionPtr> SavedSettings(const std::string& filename) = 0;
  // Why the device with this interface changed state last (NMDeviceStateReason).
  virtual Result<uint32_t> DeviceStateReason(const std::string& iface) = 0;
  virtual Resolution Resolve(const std::vector<Remote>& remotes) = 0;
  virtual Result<bool> GuardRunning() = 0;
  // The policy the guard holds for `connection`, if it holds one.
  virtual Result<std::optional<Policy>> Engaged(const std::string& connection) = 0;
  virtual Status Engage(const std::string& connection, const Policy& policy,
                        bool block_at_boot) = 0;
  virtual Status Release(const std::string& connection) = 0;
  virtual Result<std::string> Repair() = 0;
};

// One line for the journal (stderr).

// Runs the hook for `event`. Returns the exit code: 0 done (or nothing to
// do), 1 it could not do what the event asked.
int RunHook(const Event& event, Backend& backend, const Log& log);

}  // namespace nmks::dispatch
