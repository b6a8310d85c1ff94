#include "rules/policy.h"

#include <algorithm>

#include "base/i18n.h"

namespace nmks {
namespace {

template <typename T>
void SortUnique(std::vector<T>& v) {
  // Policies mostly arrive sorted (clients normalize before they send).
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

const char* ModeName(Mode mode) { return mode == Mode::kLockdown ? "lockdown" : "on"; }
const char* Ipv6ModeName(Ipv6Mode mode) { return mode == Ipv6Mode::kTunnel ? "tunnel" : "block"; }

Result<Mode> ParseMode(std::string_view text) {
  if (text == "on") return Mode::kOn;
  if (text == "lockdown") return Mode::kLockdown;
  return Status::Error(Format(_("mode \"%.*s\" is not valid: use on or lockdown"),
                              static_cast<int>(std::min<size_t>(text.size(), 64)), text.data()));
}

Result<Ipv6Mode> ParseIpv6Mode(std::string_view text) {
  if (text == "block") return Ipv6Mode::kBlock;
  if (text == "tunnel") return Ipv6Mode::kTunnel;
  return Status::Error(Format(_("IPv6 mode \"%.*s\" is not valid: use block or tunnel"),
                              static_cast<int>(std::min<size_t>(text.size(), 64)), text.data()));
}

// The characters a tunnel name may have: what the kernel allows in an
// interface name (anything but '/', ':', whitespace and NUL) narrowed to what
// nft text carries inside double quotes without a second meaning (no '"',
// no '\\', no '*' wildcard), so the boot file's table text says exactly what
// the policy says.
static bool InterfaceNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '+' || c == '@' || c == '=';
}

Status ValidateInterfaceName(std::string_view name) {
  if (name.empty()) return Status::Error(_("a tunnel interface name is empty"));
  // Named in messages with '?' for each character that is not allowed, so
  // nothing odd reaches a log or a terminal.
  std::string shown;
  for (char c : name.substr(0, 64)) shown += InterfaceNameChar(c) ? c : '?';
  if (name.size() > kMaxInterfaceNameBytes) {
    return Status::Error(Format(_("tunnel interface name \"%s\" is longer than %zu bytes"),
                                shown.c_str(), kMaxInterfaceNameBytes));
  }
  if (name == "." || name == "..") {
    return Status::Error(Format(_("\"%s\" is not a valid interface name"), shown.c_str()));
  }
  if (!std::all_of(name.begin(), name.end(), InterfaceNameChar)) {
    return Status::Error(
        Format(_("tunnel interface name \"%s\" has a character that is not allowed: use letters, "
                 "digits and - _ . + @ = only (no space, quote, '\\', '*', '/', ':', or a byte "
                 "outside printable ASCII)"),
               shown.c_str()));
  }
  return Status::Ok();
}

Status ValidateConnectionId(std::string_view id) {
  if (id.empty()) return Status::Error(_("the connection name is empty"));
  if (id.size() > kMaxConnectionIdBytes) {
    return Status::Error(
        Format(_("the connection name is longer than %zu bytes"), kMaxConnectionIdBytes));
  }
  for (char c : id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Status::Error(_("the connection name contains a control character"));
    }
  }
  return Status::Ok();
}

namespace {

Status ValidateTunnels(const Policy& policy) {
  if (policy.tunnels.empty() && !policy.no_tunnel) {
    return Status::Error(
        _("the policy names no tunnel interface: with nothing allowed through, "
          "name the VPN's interface (for example wg0)"));
  }
  if (policy.tunnels.size() > kMaxTunnels) {
    return Status::Error(Format(_("the policy names %zu tunnel interfaces; the limit is %zu"),
                                policy.tunnels.size(), kMaxTunnels));
  }
  for (const auto& t : policy.tunnels) {
    if (Status s = ValidateInterfaceName(t); !s.ok()) return s;
    if (t == "lo") {
      return Status::Error(_("\"lo\" cannot be a tunnel: loopback is always allowed"));
    }
  }
  return Status::Ok();
}

// What is wrong with one endpoint, as a message template with one %s for
// the endpoint; null if nothing is. The endpoint is named only when
// something is wrong: formatting 100,000 of them would cost more than
// checking them.
const char* EndpointProblem(const Endpoint& e) {
  if (IsUnspecified(e.address))
    return _("endpoint %s: the unspecified address cannot be a VPN server");
  if (IsLoopback(e.address)) {
    return _("endpoint %s: loopback is always allowed and cannot be an endpoint");
  }
  if (IsMulticast(e.address)) {
    return _("endpoint %s: a multicast or broadcast address cannot be a VPN server");
  }
  if (IsIpv4Mapped(e.address)) {
    return _("endpoint %s: write IPv4-mapped addresses as plain IPv4 addresses");
  }
  if (e.port == 0) return _("endpoint %s: port 0 is not valid");
  return nullptr;
}

Status ValidateEndpoints(const Policy& policy) {
  if (policy.endpoints.size() > kMaxEndpoints) {
    return Status::Error(Format(_("the policy has %zu endpoints; the limit is %zu"),
                                policy.endpoints.size(), kMaxEndpoints));
  }
  for (const auto& e : policy.endpoints) {
    if (const char* problem = EndpointProblem(e)) {
      return Status::Error(Format(problem, e.ToString().c_str()));
    }
    if (e.protocol != Protocol::kTcp && e.protocol != Protocol::kUdp) {
      return Status::Error(_("an endpoint's protocol must be udp or tcp"));
    }
    if (e.mark && *e.mark == 0) {
      return Status::Error(
          Format(_("endpoint %s: the fwmark must not be 0"), e.ToString().c_str()));
    }
  }
  return Status::Ok();
}

}  // namespace

Status Validate(const Policy& policy) {
  if (Status s = ValidateTunnels(policy); !s.ok()) return s;
  if (Status s = ValidateEndpoints(policy); !s.ok()) return s;
  if (policy.allow_cgnat && !policy.allow_lan) {
    return Status::Error(_("allowing 100.64.0.0/10 (CGNAT) needs allow-LAN as well"));
  }
  if (policy.connections.size() > kMaxConnections) {
    return Status::Error(Format(_("%zu connections are engaged; the limit is %zu"),
                                policy.connections.size(), kMaxConnections));
  }
  for (const auto& c : policy.connections) {
    if (Status s = ValidateConnectionId(c); !s.ok()) return s;
  }
  return Status::Ok();
}

void Normalize(Policy& policy) {
  SortUnique(policy.tunnels);
  SortUnique(policy.endpoints);
  SortUnique(policy.connections);
}

Policy Merge(const std::map<std::string, Policy>& by_connection) {
  Policy merged;
  if (by_connection.empty()) return merged;
  merged.allow_lan = true;
  merged.allow_cgnat = true;
  merged.ipv6 = Ipv6Mode::kTunnel;
  merged.mode = Mode::kOn;
  for (const auto& [id, p] : by_connection) {
    merged.tunnels.insert(merged.tunnels.end(), p.tunnels.begin(), p.tunnels.end());
    merged.endpoints.insert(merged.endpoints.end(), p.endpoints.begin(), p.endpoints.end());
    merged.connections.push_back(id);
    merged.allow_lan = merged.allow_lan && p.allow_lan;
    merged.allow_cgnat = merged.allow_cgnat && p.allow_cgnat;
    if (p.ipv6 == Ipv6Mode::kBlock) merged.ipv6 = Ipv6Mode::kBlock;
    if (p.mode == Mode::kLockdown) merged.mode = Mode::kLockdown;
    merged.no_tunnel = merged.no_tunnel || p.no_tunnel;
  }
  merged.allow_cgnat = merged.allow_cgnat && merged.allow_lan;
  Normalize(merged);
  return merged;
}

}  // namespace nmks
