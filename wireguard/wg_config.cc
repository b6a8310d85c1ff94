// The parts of a Config: CIDRs, endpoints, names and numbers, each parsed
// and checked the same way wherever it comes from (a wg-quick file or a
// connection's vpn.data).
#include "wireguard/wg_config.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <system_error>

#include "base/i18n.h"
#include "wireguard/printable.h"

namespace nmks::wg {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A decimal number of at most `max_digits` digits, nothing else.
std::optional<uint64_t> ParseDecimal(std::string_view text, size_t max_digits = 10) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), IsDigit)) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Address::Parse, without echoing the input unfiltered.
Result<Address> ParseAddress(std::string_view text) {
  if (text.find('\0') == std::string_view::npos) {
    auto a = Address::Parse(text);
    if (a.ok()) return a;
  }
  return Status::Error(Format(_("\"%s\" is not an IPv4 or IPv6 address"), Printable(text).c_str()));
}

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '-' || c == '_';
}

// A DNS name: labels of letters, digits, '-' and '_', 1 to 63 characters,
// not starting or ending with '-'; at most 253 characters; one final dot
// allowed. The last label is not all digits (no top-level domain is, and
// "1.2.3.256" must not be taken for a name).
bool IsDnsName(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::string_view last;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (!std::all_of(label.begin(), label.end(), IsLabelChar)) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !std::all_of(last.begin(), last.end(), IsDigit);
}

}  // namespace

std::string Cidr::ToString() const { return address.ToString() + "/" + std::to_string(prefix); }

Result<Cidr> Cidr::Parse(std::string_view text) {
  size_t slash = text.find('/');
  auto address = ParseAddress(text.substr(0, slash));
  if (!address.ok()) return address.status();
  Cidr cidr;
  cidr.address = address.value();
  unsigned max_prefix = cidr.address.family == Address::Family::kIpv4 ? 32 : 128;
  if (slash == std::string_view::npos) {
    cidr.prefix = static_cast<uint8_t>(max_prefix);
    return cidr;
  }
  auto prefix = ParseDecimal(text.substr(slash + 1), 3);
  if (!prefix || *prefix > max_prefix) {
    return Status::Error(Format(_("\"%s\": the prefix length must be a number from 0 to %u"),
                                Printable(text).c_str(), max_prefix));
  }
  cidr.prefix = static_cast<uint8_t>(*prefix);
  return cidr;
}

std::string HostPort::ToString() const {
  std::string out = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return out + ":" + std::to_string(port);
}

Result<HostPort> HostPort::Parse(std::string_view text) {
  HostPort hp;
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::Error(
          Format(_("\"%s\": write an IPv6 endpoint as [ADDRESS]:PORT, e.g. [2001:db8::1]:51820"),
                 Printable(text).c_str()));
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    auto a = ParseAddress(host);
    if (!a.ok() || a.value().family != Address::Family::kIpv6) {
      return Status::Error(Format(_("\"%s\": what is in brackets must be an IPv6 address"),
                                  Printable(text).c_str()));
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::Error(Format(_("\"%s\" has no port: write HOST:PORT, e.g. "
                                    "vpn.example.net:51820"),
                                  Printable(text).c_str()));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return Status::Error(Format(_("\"%s\": write an IPv6 endpoint in brackets, e.g. "
                                    "[2001:db8::1]:51820"),
                                  Printable(text).c_str()));
    }
  }
  if (Status s = ValidateHost(host); !s.ok()) return s;
  auto p = ParsePort(port);
  if (!p.ok()) {
    return Status::Error(
        Format(_("\"%s\": the port must be a number from 1 to 65535"), Printable(text).c_str()));
  }
  hp.host = std::string(host);
  hp.port = p.value();
  return hp;
}

Status ValidateHost(std::string_view host) {
  if (host.empty()) return Status::Error(_("the endpoint has no host"));
  bool looks_numeric =
      std::all_of(host.begin(), host.end(), [](char c) { return IsDigit(c) || c == '.'; }) ||
      host.find(':') != std::string_view::npos;
  if (looks_numeric) {
    auto a = ParseAddress(host);
    if (!a.ok()) return a.status();
    if (IsUnspecified(a.value())) {
      return Status::Error(Format(_("%s cannot be a peer's endpoint: it is the unspecified "
                                    "address"),
                                  Printable(host).c_str()));
    }
    return Status::Ok();
  }
  if (!IsDnsName(host)) {
    return Status::Error(Format(_("\"%s\" is neither an IP address nor a valid host name"),
                                Printable(host).c_str()));
  }
  // Names such as "0x7f000001" that the resolver would read as an address.
  std::string copy(host);
  in_addr ignored{};
  if (inet_aton(copy.c_str(), &ignored) != 0) {
    return Status::Error(Format(_("\"%s\" is an unusual way to write an IPv4 address; write it as "
                                  "four decimal numbers, e.g. 192.0.2.1"),
                                Printable(host).c_str()));
  }
  return Status::Ok();
}

Status ValidateSearchDomain(std::string_view domain) {
  std::string_view name = domain;
  if (!name.empty() && name.front() == '~') {
    name.remove_prefix(1);
    if (name == ".") return Status::Ok();  // route all queries to these servers
  }
  if (!IsDnsName(name)) {
    return Status::Error(
        Format(_("\"%s\" is neither an IP address nor a valid domain"), Printable(domain).c_str()));
  }
  return Status::Ok();
}

Result<uint32_t> ParseMtu(std::string_view text) {
  auto v = ParseDecimal(text);
  if (!v || *v < kMinMtu || *v > kMaxMtu) {
    return Status::Error(Format(_("MTU \"%s\" is not a number from %u to %u"),
                                Printable(text).c_str(), kMinMtu, kMaxMtu));
  }
  return static_cast<uint32_t>(*v);
}

Result<uint16_t> ParsePort(std::string_view text) {
  auto v = ParseDecimal(text, 5);
  if (!v || *v < 1 || *v > 65535) {
    return Status::Error(
        Format(_("port \"%s\" is not a number from 1 to 65535"), Printable(text).c_str()));
  }
  return static_cast<uint16_t>(*v);
}

Result<uint16_t> ParseKeepalive(std::string_view text) {
  if (text.size() == 3 && (text[0] | 0x20) == 'o' && (text[1] | 0x20) == 'f' &&
      (text[2] | 0x20) == 'f') {
    return uint16_t{0};
  }
  auto v = ParseDecimal(text, 5);
  if (!v || *v > 65535) {
    return Status::Error(Format(_("\"%s\" is not a number of seconds from 0 to 65535 (or off)"),
                                Printable(text).c_str()));
  }
  return static_cast<uint16_t>(*v);
}

Result<std::vector<std::string_view>> SplitList(std::string_view text) {
  auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
  auto trim = [&](std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
  };
  std::vector<std::string_view> items;
  if (trim(text).empty()) return items;
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item = trim(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty()) {
      return Status::Error(
          _("the list has an empty item (two commas in a row, or a comma at "
            "the start or end)"));
    }
    items.push_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

Status ValidateConfig(const Config& config) {
  if (Status s = ValidateKey(config.private_key, _("the private key")); !s.ok()) return s;
  for (const Cidr& c : config.addresses) {
    unsigned max_prefix = c.address.family == Address::Family::kIpv4 ? 32 : 128;
    if (c.prefix > max_prefix || IsUnspecified(c.address)) {
      return Status::Error(
          Format(_("%s cannot be the tunnel's address"), Printable(c.ToString()).c_str()));
    }
  }
  for (const Address& a : config.dns) {
    if (IsUnspecified(a)) {
      return Status::Error(Format(_("%s cannot be a DNS server"), Printable(a.ToString()).c_str()));
    }
  }
  for (const std::string& d : config.dns_search) {
    if (Status s = ValidateSearchDomain(d); !s.ok()) return s;
  }
  if (config.mtu && (*config.mtu < kMinMtu || *config.mtu > kMaxMtu)) {
    return Status::Error(Format(_("MTU %u is not from %u to %u"), *config.mtu, kMinMtu, kMaxMtu));
  }
  if (config.listen_port && *config.listen_port == 0) {
    return Status::Error(
        _("the listen port must be from 1 to 65535 (leave it out for a random "
          "port)"));
  }
  if (config.peers.empty()) return Status::Error(_("the tunnel has no peer"));
  if (config.peers.size() > kMaxPeers) {
    return Status::Error(
        Format(_("the tunnel has %zu peers; the limit is %zu"), config.peers.size(), kMaxPeers));
  }
  std::map<std::string_view, size_t> seen;
  for (size_t i = 0; i < config.peers.size(); ++i) {
    const Peer& p = config.peers[i];
    std::string what = Format(_("the public key of peer %zu"), i + 1);
    if (Status s = ValidateKey(p.public_key, what.c_str()); !s.ok()) return s;
    if (auto [it, fresh] = seen.emplace(p.public_key, i); !fresh) {
      return Status::Error(
          Format(_("peers %zu and %zu have the same public key"), it->second + 1, i + 1));
    }
    if (!p.preshared_key.empty()) {
      what = Format(_("the preshared key of peer %zu"), i + 1);
      if (Status s = ValidateKey(p.preshared_key, what.c_str()); !s.ok()) return s;
    }
    for (const Cidr& c : p.allowed_ips) {
      if (c.prefix > (c.address.family == Address::Family::kIpv4 ? 32 : 128)) {
        return Status::Error(Format(_("peer %zu: %s is not a valid network"), i + 1,
                                    Printable(c.ToString()).c_str()));
      }
    }
    if (p.endpoint) {
      if (Status s = ValidateHost(p.endpoint->host); !s.ok()) return s;
      if (p.endpoint->port == 0) {
        return Status::Error(Format(_("peer %zu: the endpoint's port is 0"), i + 1));
      }
    }
  }
  return Status::Ok();
}

}  // namespace nmks::wg
