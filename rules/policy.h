// The Policy: what one engaged connection asks the kill switch to let
// through, and nothing else. A Policy is a plain value; Validate() says
// whether it can be installed, Merge() folds the policies of all engaged
// connections into the one table the kernel holds.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/address.h"
#include "base/status.h"

namespace nmks {

// Upper bounds that keep one commit within what the kernel and D-Bus take.
inline constexpr size_t kMaxEndpoints = 100000;
inline constexpr size_t kMaxTunnels = 64;
inline constexpr size_t kMaxConnectionIdBytes = 256;
inline constexpr size_t kMaxConnections = 64;
// IFNAMSIZ - 1: the kernel's limit for an interface name.
inline constexpr size_t kMaxInterfaceNameBytes = 15;

// The fwmark our own WireGuard tunnels put on their encrypted packets
// ("ks" in ASCII, 0x6b73 = 27507).
inline constexpr uint32_t kDefaultMark = 0x6b73;

enum class Mode : uint8_t {
  kOn,        // released when the user turns the VPN off
  kLockdown,  // kept until an administrator releases it
};
enum class Ipv6Mode : uint8_t {
  kBlock,   // the tunnel carries no IPv6: all IPv6 beyond link housekeeping is blocked
  kTunnel,  // IPv6 may flow through the tunnel
};
const char* ModeName(Mode mode);
const char* Ipv6ModeName(Ipv6Mode mode);
Result<Mode> ParseMode(std::string_view text);
Result<Ipv6Mode> ParseIpv6Mode(std::string_view text);

struct Policy {
  std::vector<std::string> tunnels;  // interface names, allowed whole
  std::vector<Endpoint> endpoints;   // VPN servers, allowed outside the tunnel
  bool allow_lan = false;            // private, link-local and multicast ranges
  bool allow_cgnat = false;          // with allow_lan: also 100.64.0.0/10
  Ipv6Mode ipv6 = Ipv6Mode::kBlock;
  Mode mode = Mode::kOn;
  std::vector<std::string> connections;  // the connections that own this policy
  // No tunnel on purpose: the VPN's interface is not known (the dispatcher
  // hook was told none), so nothing but the endpoints gets out (fail closed).
  // Without it a policy must name a tunnel.
  bool no_tunnel = false;

  bool operator==(const Policy&) const = default;
};

// Checks an interface name the way the kernel would, and more strictly:
// printable ASCII only.
Status ValidateInterfaceName(std::string_view name);
Status ValidateConnectionId(std::string_view id);

// Ok when the policy can be installed as it is: at least one tunnel (or
// no_tunnel), valid names and endpoints, limits respected.
Status Validate(const Policy& policy);

// One policy for the table: the union of tunnels, endpoints and connections
// (sorted, without duplicates), and the strictest choice for everything
// else: LAN and CGNAT only if every connection allows them, IPv6 through the
// tunnel only if every connection's tunnel carries it, lockdown if any asks.
Policy Merge(const std::map<std::string, Policy>& by_connection);

// Sorts and removes duplicates, so equal policies compare equal.
void Normalize(Policy& policy);

}  // namespace nmks
