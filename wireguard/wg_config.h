// A WireGuard tunnel as wg-quick(8) describes it, and the strict reader and
// writer of wg-quick files. Config is a plain value: the editor plugin fills
// it from a file or a connection, the VPN service configures the tunnel from
// it. ParseWgQuick() refuses anything it does not fully understand (scripts,
// routing tables, unknown keys, malformed values) with a message that names
// the line and the key; it never echoes a private or preshared key.
// ValidateConfig() checks a Config that did not come from the parser.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "rules/policy.h"

namespace nmks::wg {

// Limits that keep a hostile file from costing much memory or time.
inline constexpr size_t kMaxFileBytes = 1024 * 1024;
inline constexpr size_t kMaxPeers = 10000;
inline constexpr uint32_t kMinMtu = 576;
inline constexpr uint32_t kMaxMtu = 65535;
inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kKeyBase64Chars = 44;

// An address with a prefix length: "192.0.2.2/32", "2001:db8::/32". Parse
// accepts a bare address as a host route (/32 or /128), as wg-quick does.
// Host bits are kept as written (an interface address needs them).
struct Cidr {
  Address address;
  uint8_t prefix = 0;

  std::string ToString() const;
  static Result<Cidr> Parse(std::string_view text);
  bool operator==(const Cidr&) const = default;
};

// Where a peer is reached: an IPv4 or IPv6 address or a DNS name, and a
// port from 1 to 65535. `host` holds an IPv6 address without brackets.
struct HostPort {
  std::string host;
  uint16_t port = 0;

  // "192.0.2.1:51820", "[2001:db8::1]:51820", "vpn.example.net:51820".
  std::string ToString() const;
  // The reverse of ToString(); IPv6 addresses must be in brackets.
  static Result<HostPort> Parse(std::string_view text);
  bool operator==(const HostPort&) const = default;
};

struct Peer {
  std::string public_key;     // base64, 44 characters
  std::string preshared_key;  // base64, 44 characters; "" if none
  std::vector<Cidr> allowed_ips;
  std::optional<HostPort> endpoint;
  uint16_t persistent_keepalive = 0;  // seconds; 0 is off

  bool operator==(const Peer&) const = default;
};

struct Config {
  std::string private_key;  // base64, 44 characters
  std::vector<Cidr> addresses;
  std::vector<Address> dns;
  std::vector<std::string> dns_search;  // domains; "~example.com" routing-only
  std::optional<uint32_t> mtu;
  std::optional<uint16_t> listen_port;
  std::vector<Peer> peers;

  bool operator==(const Config&) const = default;
};

// Parses the text of a wg-quick file (UTF-8, LF or CRLF, an optional BOM).
// Keys and section names are case-insensitive; '#' starts a comment.
// Address, DNS and AllowedIPs may be repeated and take comma-separated
// lists; every other key may appear once per section. Refused, each with
// its reason: PreUp, PostUp, PreDown, PostDown (we never run commands from
// a file), Table (NetworkManager owns routing), FwMark (the kill switch
// marks the tunnel's packets itself), SaveConfig = true (nothing writes the
// file back; SaveConfig = false is accepted and means nothing). Every error
// starts with "line N: ".
Result<Config> ParseWgQuick(std::string_view text);

// Writes `config` as a wg-quick file, keys included, in the form
// ParseWgQuick reads back to an equal Config. `config` should pass
// ValidateConfig(). A config near the limits may write to a file larger
// than kMaxFileBytes (bare addresses are written with their prefix).
std::string WriteWgQuick(const Config& config);

// Ok when `config` is what ParseWgQuick could have produced: valid keys, at
// least one and at most kMaxPeers peers with distinct public keys, valid
// hosts, ports, domains and MTU.
Status ValidateConfig(const Config& config);

// A WireGuard key: 44 characters of base64 that decode to exactly 32 bytes.
// `what` names the key in the message ("PrivateKey"); the key itself is
// never part of a message.
Status ValidateKey(std::string_view base64, const char* what);
Result<std::array<uint8_t, kKeyBytes>> DecodeKey(std::string_view base64);

// Checks one element the way ParseWgQuick does; for the connection mapping.
Status ValidateHost(std::string_view host);
Status ValidateSearchDomain(std::string_view domain);
Result<uint32_t> ParseMtu(std::string_view text);
// A port from 1 to 65535.
Result<uint16_t> ParsePort(std::string_view text);
// Seconds from 0 to 65535, or "off" (0).
Result<uint16_t> ParseKeepalive(std::string_view text);

// Splits a comma-separated list, trimming spaces and tabs around each item.
// An empty item ("a,,b", a trailing comma) is an error; an empty or
// all-blank text is an empty list.
Result<std::vector<std::string_view>> SplitList(std::string_view text);

}  // namespace nmks::wg
