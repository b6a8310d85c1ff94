// Addresses and endpoints: an IPv4 or IPv6 address, and a VPN server as
// address, port and protocol. Plain values, parsed strictly from text and
// written back in one canonical form; what the engine's Policy, the guard's
// wire format, the plugin and the hook all speak.
#pragma once

#include <endian.h>

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace nmks {

// An IPv4 or IPv6 address in network byte order.
struct Address {
  enum class Family : uint8_t { kIpv4 = 4, kIpv6 = 6 };
  Family family = Family::kIpv4;
  std::array<uint8_t, 16> bytes{};  // IPv4 uses the first four

  static Result<Address> Parse(std::string_view text);
  std::string ToString() const;
  size_t size() const { return family == Family::kIpv4 ? 4 : 16; }
  // The defaulted order (family, then the bytes), as two big-endian words
  // instead of a memcmp call: sorting 100,000 endpoints compares a lot.
  std::strong_ordering operator<=>(const Address& other) const {
    if (family != other.family) return family <=> other.family;
    uint64_t a[2], b[2];
    std::memcpy(a, bytes.data(), sizeof a);
    std::memcpy(b, other.bytes.data(), sizeof b);
    for (int i = 0; i < 2; ++i) {
      if (a[i] != b[i]) return be64toh(a[i]) <=> be64toh(b[i]);
    }
    return std::strong_ordering::equal;
  }
  bool operator==(const Address&) const = default;
};

enum class Protocol : uint8_t { kTcp = 6, kUdp = 17 };
const char* ProtocolName(Protocol protocol);

// A VPN server the kill switch lets the machine reach outside the tunnel.
// With a mark, only packets carrying that fwmark (set by our own tunnel's
// socket) may go there, so no other program can reach the server directly.
struct Endpoint {
  Address address;
  Protocol protocol = Protocol::kUdp;
  uint16_t port = 0;
  std::optional<uint32_t> mark;

  // "ADDR:PORT[/udp|/tcp]", IPv6 as "[2001:db8::1]:51820/udp"; udp by default.
  static Result<Endpoint> Parse(std::string_view text);
  std::string ToString() const;
  auto operator<=>(const Endpoint&) const = default;
};

// "HOST:PORT[/udp|/tcp]" taken apart without looking at HOST (an address
// literal, "[...]" around IPv6, or a host name): the port and protocol
// checked as in Endpoint::Parse, the same messages.
struct EndpointText {
  std::string_view host;
  uint16_t port = 0;
  Protocol protocol = Protocol::kUdp;
};
Result<EndpointText> SplitEndpoint(std::string_view text);

// What an address is, for refusing it as a VPN server: 0.0.0.0 or ::,
// loopback (127.0.0.0/8, ::1), multicast or broadcast (224.0.0.0/4,
// 255.0.0.0/8, ff00::/8), IPv4-mapped IPv6 (::ffff:0:0/96).
bool IsUnspecified(const Address& a);
bool IsLoopback(const Address& a);
bool IsMulticast(const Address& a);
bool IsIpv4Mapped(const Address& a);

}  // namespace nmks
