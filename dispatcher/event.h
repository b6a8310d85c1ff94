// One call of the hook by NetworkManager's dispatcher, read strictly from
// argv (program, interface, action) and the environment nm-dispatcher
// builds for it. Without a known action and connection nothing can be done:
// a missing or unknown action, one that disagrees with NM_DISPATCHER_ACTION,
// or a malformed CONNECTION_UUID is an error naming the variable (never
// echoing the value), and the hook does nothing at all. Any other odd value
// (a bad interface name, a malformed object path or IPv6 address count, an
// oversized value) is left empty and named in `damaged`, so that the hook
// can still fail closed for an opted-in connection. An odd
// CONNECTION_FILENAME is only dropped (it is merely a fallback).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"

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
  std::string connection_filename;  // CONNECTION_FILENAME: the profile's file, if it has one
  // One line for each value that could not be read (translated; names the
  // variable, never the value). Such values are left empty (or false).
  std::vector<std::string> damaged;
};

// The longest value the hook reads from its environment.
inline constexpr size_t kMaxValueBytes = 1024;
// The most VPN_IP6_ADDRESS_<n> / IP6_ADDRESS_<n> it looks at.
inline constexpr unsigned kMaxAddresses = 256;

// getenv, or a map in tests.
using Environment = std::function<const char*(const char* name)>;

Result<Event> ReadEvent(int argc, const char* const* argv, const Environment& env);

// What both hook programs do first: arrange to give up after 20 s (so as not
// to hold NetworkManager up; the kill switch stays as it was) and read the
// event from argv and the process environment. An event that cannot be read
// is printed as such; the program should then exit 2.
Result<Event> StartHookProgram(int argc, char** argv);

// Connection events (pre-up, vpn-pre-up, pre-down, vpn-pre-down) need the
// connection's UUID; checks that it is there. (Without a settings path the
// hook reads the connection from its file instead.)
Status RequireConnection(const Event& event);

}  // namespace nmks::dispatch
