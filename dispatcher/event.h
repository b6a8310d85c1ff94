// One call of the hook by NetworkManager's dispatcher, read strictly from
// argv (program, interface, action) and the environment nm-dispatcher
// builds for it. Anything odd — a missing or unknown action, an action that
// disagrees with NM_DISPATCHER_ACTION, a malformed UUID or object path, a
// bad interface name, an oversized value — is an error naming the variable
// (never echoing the value), and the hook then does nothing at all.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "rules/status.h"

namespace nmks::dispatch {

enum class Action : uint8_t {
  kHostname,
  kPreUp,
  kUp,
  kPreDown,
  kDown,
  kVpnPreUp,
  kVpnUp,
  kVpnPreDown,
  kVpnDown,
  kDhcp4Change,
  kDhcp6Change,
  kConnectivityChange,
  kReapply,
};
const char* ActionName(Action action);

struct Event {
  Action action = Action::kHostname;
  std::string iface;              // argv[1]; may be empty
  std::string uuid;               // CONNECTION_UUID
  std::string settings_path;      // CONNECTION_DBUS_PATH
  std::string connection_id;      // CONNECTION_ID, printable ASCII only (for logs)
  std::string vpn_ip_iface;       // VPN_IP_IFACE
  std::string device_iface;       // DEVICE_IFACE
  std::string device_ip_iface;    // DEVICE_IP_IFACE
  bool vpn_has_ipv6 = false;      // a global address in VPN_IP6_ADDRESS_<n>
  bool device_has_ipv6 = false;   // a global address in IP6_ADDRESS_<n>
  bool external = false;          // CONNECTION_EXTERNAL=1: NetworkManager did not make it
};

// The longest value the hook reads from its environment.
inline constexpr size_t kMaxValueBytes = 1024;
// The most VPN_IP6_ADDRESS_<n> / IP6_ADDRESS_<n> it looks at.
inline constexpr unsigned kMaxAddresses = 256;

// getenv, or a map in tests.
using Environment = std::function<const char*(const char* name)>;

Result<Event> ReadEvent(int argc, const char* const* argv, const Environment& env);

// Connection events (pre-up, vpn-pre-up, pre-down, vpn-pre-down) need the
// connection's UUID and settings path; checks that they are there.
Status RequireConnection(const Event& event);

}  // namespace nmks::dispatch
