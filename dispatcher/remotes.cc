#include "dispatcher/remotes.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>

#include "base/i18n.h"

namespace nmks::dispatch {
namespace {

constexpr uint16_t kOpenVpnPort = 1194;  // network-manager-openvpn's default (IANA)
constexpr uint16_t kHttpsPort = 443;
constexpr size_t kMaxHostBytes = 253;

// An entry echoed in a message: printable ASCII, at most 64 characters.
std::string Shown(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > 64) out += "...";
  return out;
}

bool ParsePort(std::string_view text, uint16_t* port) {
  if (text.empty() || text.size() > 5) return false;
  unsigned v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v < 1 || v > 65535) return false;
  *port = static_cast<uint16_t>(v);
  return true;
}

bool IsIpv6(std::string_view text) {
  std::string s(text);
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// network-manager-openvpn's _is_inet6_addr(str, TRUE): an IPv6 literal,
// with or without square brackets.
bool IsIpv6WithBrackets(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    return IsIpv6(text.substr(1, text.size() - 2));
  }
  return IsIpv6(text);
}

Status CheckHost(std::string_view host) {
  if (host.empty()) return Status::Error(_("the host is empty"));
  if (host.size() > kMaxHostBytes) {
    return Status::Error(Format(_("the host name is longer than %zu bytes"), kMaxHostBytes));
  }
  for (char c : host) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return Status::Error(_("the host contains a space or a control character"));
    }
  }
  return Status::Ok();
}

const char* Data(NMSettingVpn* vpn, const char* key) {
  const char* v = nm_setting_vpn_get_data_item(vpn, key);
  return (v != nullptr && *v != '\0') ? v : nullptr;
}

// "host[:port]" with IPv6 as "[v6]:port", "[v6]" or a bare IPv6 literal.
Result<std::pair<std::string, std::optional<uint16_t>>> SplitHostPort(std::string_view text) {
  std::string host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Status::Error(_("a \"[\" has no \"]\""));
    host = std::string(text.substr(1, close - 1));
    if (!IsIpv6(host)) return Status::Error(_("the address in brackets is not an IPv6 address"));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return Status::Error(_("unexpected text after \"]\""));
      port = rest.substr(1);
      if (port.empty()) return Status::Error(_("the port is empty"));
    }
  } else if (std::count(text.begin(), text.end(), ':') >= 2) {
    host = std::string(text);  // a bare IPv6 literal, no port
    if (!IsIpv6(host)) return Status::Error(_("it is neither host:port nor an IPv6 address"));
  } else if (size_t colon = text.find(':'); colon != std::string_view::npos) {
    host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (port.empty()) return Status::Error(_("the port is empty"));
  } else {
    host = std::string(text);
  }
  if (Status s = CheckHost(host); !s.ok()) return s;
  std::optional<uint16_t> p;
  if (!port.empty()) {
    uint16_t v = 0;
    if (!ParsePort(port, &v)) {
      return Status::Error(Format(_("\"%s\" is not a port"), Shown(port).c_str()));
    }
    p = v;
  }
  return std::make_pair(host, p);
}

// Through a proxy the client reaches only the proxy. False when no HTTP
// or SOCKS proxy is set.
bool OpenVpnProxy(NMSettingVpn* vpn, Protocol default_protocol, Remotes* out) {
  const char* proxy_type = Data(vpn, "proxy-type");
  const char* proxy_server = Data(vpn, "proxy-server");
  if (!proxy_type || !proxy_server ||
      (std::strcmp(proxy_type, "http") != 0 && std::strcmp(proxy_type, "socks") != 0)) {
    return false;
  }
  bool http = std::strcmp(proxy_type, "http") == 0;
  Remote r;
  r.protocol = Protocol::kTcp;
  r.port = http ? 8080 : 1080;
  if (const char* port = Data(vpn, "proxy-port"); port && !ParsePort(port, &r.port)) {
    out->skipped.push_back(
        Format(_("vpn.data proxy-port \"%s\" is not a port"), Shown(port).c_str()));
    return true;
  }
  if (Status s = CheckHost(proxy_server); !s.ok()) {
    out->skipped.push_back(Format(_("vpn.data proxy-server \"%s\": %s"),
                                  Shown(proxy_server).c_str(), s.message().c_str()));
    return true;
  }
  r.host = proxy_server;
  out->remotes.push_back(r);
  if (!http && default_protocol == Protocol::kUdp) {
    out->skipped.push_back(
        _("UDP through a SOCKS proxy goes to a relay port the proxy picks at connect time: "
          "the kill switch cannot allow it, so the VPN stays blocked"));
  }
  return true;
}

// vpn.data remote: entries separated by spaces, tabs or commas.
void OpenVpnRemoteList(const char* list, uint16_t default_port, Protocol default_protocol,
                       Remotes* out) {
  std::string_view rest = list;
  while (true) {
    size_t end = rest.find_first_of(" \t,");
    std::string_view entry = rest.substr(0, end);
    if (!entry.empty()) {
      auto r = ParseOpenVpnRemote(std::string(entry), default_port, default_protocol);
      if (r.ok()) {
        out->remotes.push_back(r.value());
      } else {
        out->skipped.push_back(Format(_("remote \"%s\" is skipped, as OpenVPN skips it: %s"),
                                      Shown(entry).c_str(), r.message().c_str()));
      }
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
}

void OpenVpnRemotes(NMSettingVpn* vpn, Remotes* out) {
  uint16_t default_port = kOpenVpnPort;
  if (const char* port = Data(vpn, "port")) {
    if (!ParsePort(port, &default_port)) {
      default_port = kOpenVpnPort;
      out->skipped.push_back(
          Format(_("vpn.data port \"%s\" is not a port; using 1194"), Shown(port).c_str()));
    }
  }
  const char* proto_tcp = nm_setting_vpn_get_data_item(vpn, "proto-tcp");
  Protocol default_protocol =
      (proto_tcp && std::strcmp(proto_tcp, "yes") == 0) ? Protocol::kTcp : Protocol::kUdp;
  if (OpenVpnProxy(vpn, default_protocol, out)) return;
  if (const char* list = nm_setting_vpn_get_data_item(vpn, "remote")) {
    OpenVpnRemoteList(list, default_port, default_protocol, out);
  }
}

std::optional<uint16_t> DefaultProxyPort(std::string_view scheme) {
  if (scheme == "http") return 80;
  if (scheme == "https") return 443;
  if (scheme.substr(0, 5) == "socks") return 1080;
  return std::nullopt;
}

// "[scheme://]host[:port][/path]": the scheme (lower case, "" if none) and host[:port].
std::pair<std::string, std::string_view> SplitUrl(std::string_view text) {
  std::string scheme;
  if (size_t sep = text.find("://"); sep != std::string_view::npos) {
    for (char c : text.substr(0, sep)) scheme += static_cast<char>(std::tolower(c));
    text.remove_prefix(sep + 3);
  }
  text = text.substr(0, text.find('/'));
  return {scheme, text};
}

void OpenConnectRemotes(NMSettingVpn* vpn, Remotes* out) {
  if (const char* proxy = Data(vpn, "proxy")) {
    auto [scheme, hostport] = SplitUrl(proxy);
    auto port = DefaultProxyPort(scheme.empty() ? "http" : scheme);
    auto hp = SplitHostPort(hostport);
    if (!port || !hp.ok()) {
      out->skipped.push_back(Format(_("vpn.data proxy \"%s\" is not a proxy URL"),
                                    Shown(proxy).c_str()));
      return;
    }
    out->remotes.push_back(
        {hp.value().first, hp.value().second.value_or(*port), Protocol::kTcp, Family::kAny});
    return;
  }
  const char* gateway = Data(vpn, "gateway");
  if (gateway == nullptr) return;
  auto [scheme, hostport] = SplitUrl(gateway);
  auto hp = SplitHostPort(hostport);
  if (!hp.ok()) {
    out->skipped.push_back(
        Format(_("gateway \"%s\": %s"), Shown(gateway).c_str(), hp.message().c_str()));
    return;
  }
  const std::string& host = hp.value().first;
  uint16_t port = hp.value().second.value_or(kHttpsPort);
  out->remotes.push_back({host, port, Protocol::kTcp, Family::kAny});
  out->remotes.push_back({host, port, Protocol::kUdp, Family::kAny});  // DTLS
  const char* protocol = Data(vpn, "protocol");
  std::string_view p = protocol ? protocol : "anyconnect";
  if (p == "gp") out->remotes.push_back({host, 4501, Protocol::kUdp, Family::kAny});  // ESP
  if (p == "nc" || p == "juniper" || p == "pulse") {
    out->remotes.push_back({host, 4500, Protocol::kUdp, Family::kAny});  // ESP
  }
}

void WireGuardRemotes(NMConnection* connection, Remotes* out) {
  auto* wg = NM_SETTING_WIREGUARD(nm_connection_get_setting(connection, NM_TYPE_SETTING_WIREGUARD));
  if (wg == nullptr) return;
  guint n = nm_setting_wireguard_get_peers_len(wg);
  for (guint i = 0; i < n; ++i) {
    NMWireGuardPeer* peer = nm_setting_wireguard_get_peer(wg, i);
    const char* endpoint = nm_wireguard_peer_get_endpoint(peer);
    if (endpoint == nullptr || *endpoint == '\0') continue;  // a peer that only listens
    auto hp = SplitHostPort(endpoint);
    if (hp.ok() && !hp.value().second) hp = Status::Error(_("the port is missing"));
    if (!hp.ok()) {
      out->skipped.push_back(Format(_("peer endpoint \"%s\": %s"), Shown(endpoint).c_str(),
                                    hp.message().c_str()));
      continue;
    }
    out->remotes.push_back(
        {hp.value().first, *hp.value().second, Protocol::kUdp, Family::kAny});
  }
}

}  // namespace

Result<Remote> ParseOpenVpnRemote(const std::string& entry, uint16_t default_port,
                                  Protocol default_protocol) {
  if (!g_utf8_validate(entry.data(), static_cast<gssize>(entry.size()), nullptr)) {
    return Status::Error(_("it is not valid UTF-8"));
  }
  // nmovpn_remote_parse: host[:port[:proto]], from the right, unless what is
  // left is an IPv6 address (bare or in brackets).
  std::string host = entry;
  std::string port, proto;
  bool has_port = false, has_proto = false;
  if (size_t t = host.rfind(':'); t != std::string::npos && !IsIpv6WithBrackets(host)) {
    port = host.substr(t + 1);
    has_port = true;
    host.resize(t);
    if (size_t u = host.rfind(':'); u != std::string::npos && !IsIpv6WithBrackets(host)) {
      proto = port;
      has_proto = true;
      port = host.substr(u + 1);
      host.resize(u);
    }
  }
  if (host.empty()) return Status::Error(_("the host is empty"));
  Remote r;
  r.port = default_port;
  r.protocol = default_protocol;
  if (has_port && !port.empty() && !ParsePort(port, &r.port)) {
    return Status::Error(Format(_("\"%s\" is not a port"), Shown(port).c_str()));
  }
  if (has_proto && !proto.empty()) {
    static constexpr std::pair<const char*, std::pair<Protocol, Family>> kProtocols[] = {
        {"udp", {Protocol::kUdp, Family::kAny}},
        {"udp4", {Protocol::kUdp, Family::kIpv4}},
        {"udp6", {Protocol::kUdp, Family::kIpv6}},
        {"tcp", {Protocol::kTcp, Family::kAny}},
        {"tcp4", {Protocol::kTcp, Family::kIpv4}},
        {"tcp6", {Protocol::kTcp, Family::kIpv6}},
        {"tcp-client", {Protocol::kTcp, Family::kAny}},
        {"tcp4-client", {Protocol::kTcp, Family::kIpv4}},
        {"tcp6-client", {Protocol::kTcp, Family::kIpv6}},
    };
    auto it = std::find_if(std::begin(kProtocols), std::end(kProtocols),
                           [&](const auto& p) { return proto == p.first; });
    if (it == std::end(kProtocols)) {
      return Status::Error(Format(_("\"%s\" is not a protocol OpenVPN knows"), Shown(proto).c_str()));
    }
    r.protocol = it->second.first;
    r.family = it->second.second;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']' &&
      IsIpv6(std::string_view(host).substr(1, host.size() - 2))) {
    host = host.substr(1, host.size() - 2);
  }
  if (Status s = CheckHost(host); !s.ok()) return s;
  r.host = host;
  return r;
}

Remotes RemotesOf(NMConnection* connection, Kind kind) {
  Remotes out;
  if (kind == Kind::kWireGuard) {
    WireGuardRemotes(connection, &out);
    return out;
  }
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  if (vpn == nullptr) return out;
  if (kind == Kind::kOpenVpn) OpenVpnRemotes(vpn, &out);
  if (kind == Kind::kOpenConnect) OpenConnectRemotes(vpn, &out);
  return out;
}

}  // namespace nmks::dispatch
