#include "base/address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <system_error>

#include "base/i18n.h"

namespace nmks {
namespace {

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

bool IsIpv4Mapped(const Address& a) {
  return a.family == Address::Family::kIpv6 && a.bytes[10] == 0xff && a.bytes[11] == 0xff &&
         std::all_of(a.bytes.begin(), a.bytes.begin() + 10, [](uint8_t b) { return b == 0; });
}

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

Result<EndpointText> SplitEndpoint(std::string_view text) {
  EndpointText e;
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
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return Status::Error(Format(
          _("endpoint \"%.*s\": write IPv6 endpoints as [ADDRESS]:PORT, e.g. [2001:db8::1]:51820"),
          static_cast<int>(text.size()), text.data()));
    }
    e.host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos || rest.find(':') != colon) {
      return Status::Error(
          Format(_("endpoint \"%.*s\": expected ADDRESS:PORT (IPv6 as [ADDRESS]:PORT)"),
                 static_cast<int>(text.size()), text.data()));
    }
    e.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  auto p = ParsePort(port, text);
  if (!p.ok()) return p.status();
  e.port = p.value();
  return e;
}

Result<Endpoint> Endpoint::Parse(std::string_view text) {
  auto split = SplitEndpoint(text);
  if (!split.ok()) return split.status();
  auto address = Address::Parse(split.value().host);
  if (!address.ok()) {
    return Status::Error(Format(_("endpoint \"%.*s\": %s"), static_cast<int>(text.size()),
                                text.data(), address.message().c_str()));
  }
  Endpoint e;
  e.address = address.value();
  e.protocol = split.value().protocol;
  e.port = split.value().port;
  return e;
}

std::string Endpoint::ToString() const {
  std::string host = address.ToString();
  if (address.family == Address::Family::kIpv6) host = "[" + host + "]";
  return host + ":" + std::to_string(port) + "/" + ProtocolName(protocol);
}

}  // namespace nmks
