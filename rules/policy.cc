#include "rules/policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <system_error>

#include "rules/i18n.h"

namespace nmks {
namespace {

template <typename T>
void SortUnique(std::vector<T>& v) {
  // Policies mostly arrive sorted (clients normalize before they send).
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

bool IsUnspecified(const Address& a) {
  return std::all_of(a.bytes.begin(), a.bytes.begin() + a.size(), [](uint8_t b) { return b == 0; });
}

bool IsLoopback(const Address& a) {
  if (a.family == Address::Family::kIpv4) return a.bytes[0] == 127;
  static const std::array<uint8_t, 16> kLoopback6{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return a.bytes == kLoopback6;
}

bool IsMulticast(const Address& a) {
  if (a.family == Address::Family::kIpv4) return (a.bytes[0] & 0xf0) == 0xe0 || a.bytes[0] == 255;
  return a.bytes[0] == 0xff;
}

Result<uint16_t> ParsePort(std::string_view text, std::string_view whole) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return Status::Error(Format(_("endpoint \"%.*s\": the port must be a number from 1 to 65535"),
                                static_cast<int>(whole.size()), whole.data()));
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

Result<Address> Address::Parse(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return Status::Error(_("an address contains a NUL byte"));
  }
  std::string s(text);
  Address a;
  if (s.find(':') == std::string::npos) {
    a.family = Family::kIpv4;
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  } else {
    a.family = Family::kIpv6;
    if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  }
  return Status::Error(Format(_("\"%s\" is not an IPv4 or IPv6 address"), s.substr(0, 64).c_str()));
}

std::string Address::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::kIpv4 ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

const char* ProtocolName(Protocol protocol) { return protocol == Protocol::kTcp ? "tcp" : "udp"; }

Result<Endpoint> Endpoint::Parse(std::string_view text) {
  Endpoint e;
  std::string_view rest = text;
  if (size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
    std::string_view proto = rest.substr(slash + 1);
    if (proto == "udp") {
      e.protocol = Protocol::kUdp;
    } else if (proto == "tcp") {
      e.protocol = Protocol::kTcp;
    } else {
      return Status::Error(Format(_("endpoint \"%.*s\": the protocol must be udp or tcp"),
                                  static_cast<int>(text.size()), text.data()));
    }
    rest = rest.substr(0, slash);
  }
  std::string_view host, port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Status::Error(Format(
          _("endpoint \"%.*s\": write IPv6 endpoints as [ADDRESS]:PORT, e.g. [2001:db8::1]:51820"),
          static_cast<int>(text.size()), text.data()));
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos || rest.find(':') != colon) {
      return Status::Error(
          Format(_("endpoint \"%.*s\": expected ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)"),
                 static_cast<int>(text.size()), text.data()));
    }
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  auto address = Address::Parse(host);
  if (!address.ok()) {
    return Status::Error(Format(_("endpoint \"%.*s\": %s"), static_cast<int>(text.size()),
                                text.data(), address.message().c_str()));
  }
  e.address = address.value();
  auto p = ParsePort(port, text);
  if (!p.ok()) return p.status();
  e.port = p.value();
  return e;
}

std::string Endpoint::ToString() const {
  std::string host = address.ToString();
  if (address.family == Address::Family::kIpv6) host = "[" + host + "]";
  return host + ":" + std::to_string(port) + "/" + ProtocolName(protocol);
}

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

bool IsIpv4Mapped(const Address& a) {
  return a.family == Address::Family::kIpv6 && a.bytes[10] == 0xff && a.bytes[11] == 0xff &&
         std::all_of(a.bytes.begin(), a.bytes.begin() + 10, [](uint8_t b) { return b == 0; });
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
