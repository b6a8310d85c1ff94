#include "service/service.h"

#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "base/i18n.h"
#include "guard/client.h"
#include "guard/policy_variant.h"
#include "servers/connection_policy.h"
#include "servers/resolve.h"
#include "service/kernel_tunnel.h"
#include "service/route_rules.h"
#include "service/tun_device.h"
#include "service/userspace_tunnel.h"

namespace nmks::wg {
namespace {

// Our tunnels' interface group, for the routing rules (the fwmark's value).
constexpr uint32_t kTunnelGroup = kDefaultMark;
constexpr uint32_t kDefaultMtu = 1420;
// How long the peers' names may take to resolve, all together. Longer than
// the dispatcher hook's: NetworkManager waits a minute for a VPN service,
// and the system's resolver tries a second DNS server after five seconds.
constexpr std::chrono::milliseconds kResolveBudget{10000};

void Log(const std::string& message) { g_message("%s", message.c_str()); }

bool HasFamily(const std::vector<Cidr>& cidrs, Address::Family f) {
  return std::any_of(cidrs.begin(), cidrs.end(),
                     [f](const Cidr& c) { return c.address.family == f; });
}

bool IsDefaultRoute(const Cidr& c) { return c.prefix == 0; }

guint32 Ipv4Word(const Address& a) {
  guint32 v;
  memcpy(&v, a.bytes.data(), 4);  // NetworkManager reads it natively, in network order
  return v;
}

GVariant* Ipv6Bytes(const Address& a) {
  return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, a.bytes.data(), 16, 1);
}

Address Masked(const Cidr& c) {
  Address a = c.address;
  const size_t bits = a.size() * 8;
  for (size_t bit = c.prefix; bit < bits; ++bit) a.bytes[bit / 8] &= ~(0x80 >> (bit % 8));
  return a;
}

bool IsTun(const std::string& ifname) {
  struct stat st;
  return stat(("/sys/class/net/" + ifname + "/tun_flags").c_str(), &st) == 0;
}

}  // namespace

std::string TunnelName(const std::string& uuid) {
  std::string hex;
  for (char c : uuid) {
    if (isxdigit(static_cast<unsigned char>(c))) hex += static_cast<char>(tolower(c));
    if (hex.size() == 8) break;
  }
  return "ks" + hex;
}

Policy BuildPolicy(const Settings& s, const std::string& ifname,
                   const std::vector<Endpoint>& endpoints) {
  bool v6_addresses = HasFamily(s.config.addresses, Address::Family::kIpv6);
  bool v6_routes = std::any_of(s.config.peers.begin(), s.config.peers.end(), [](const Peer& peer) {
    return HasFamily(peer.allowed_ips, Address::Family::kIpv6);
  });
  return ConnectionPolicy(
      ifname, endpoints, s.options.ipv6 == Options::Ipv6::kAuto && v6_addresses && v6_routes,
      s.options.allow_lan,
      s.options.kill_switch == Options::KillSwitch::kLockdown ? Mode::kLockdown : Mode::kOn);
}

namespace {

// NetworkManager's "general" configuration: the tunnel, its gateway (the
// first peer's endpoint), MTU and which families it carries.
GVariant* GeneralConfig(const Config& c, const std::string& ifname,
                        const std::vector<PeerEndpoint>& gateways) {
  GVariantBuilder general;
  g_variant_builder_init(&general, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&general, "{sv}", NM_VPN_PLUGIN_CONFIG_TUNDEV,
                        g_variant_new_string(ifname.c_str()));
  if (!gateways.empty()) {
    const Address& gw = gateways.front().address;
    g_variant_builder_add(
        &general, "{sv}", NM_VPN_PLUGIN_CONFIG_EXT_GATEWAY,
        gw.family == Address::Family::kIpv4 ? g_variant_new_uint32(Ipv4Word(gw)) : Ipv6Bytes(gw));
  }
  g_variant_builder_add(&general, "{sv}", NM_VPN_PLUGIN_CONFIG_MTU,
                        g_variant_new_uint32(c.mtu.value_or(kDefaultMtu)));
  g_variant_builder_add(&general, "{sv}", NM_VPN_PLUGIN_CONFIG_HAS_IP4,
                        g_variant_new_boolean(HasFamily(c.addresses, Address::Family::kIpv4)));
  g_variant_builder_add(&general, "{sv}", NM_VPN_PLUGIN_CONFIG_HAS_IP6,
                        g_variant_new_boolean(HasFamily(c.addresses, Address::Family::kIpv6)));
  // A link change must not tear the tunnel down: it survives, blocked.
  g_variant_builder_add(&general, "{sv}", NM_VPN_PLUGIN_CAN_PERSIST, g_variant_new_boolean(TRUE));
  return g_variant_builder_end(&general);
}

// The DNS servers of family `f` ("dns": au or aay) and the search domains,
// into the family's configuration `b`.
void AddDns(GVariantBuilder* b, const Config& c, Address::Family f) {
  const bool v4 = f == Address::Family::kIpv4;
  GVariantBuilder dns;
  g_variant_builder_init(&dns, v4 ? G_VARIANT_TYPE("au") : G_VARIANT_TYPE("aay"));
  bool any_dns = false;
  for (const Address& d : c.dns) {
    if (d.family != f) continue;
    any_dns = true;
    if (v4) {
      g_variant_builder_add(&dns, "u", Ipv4Word(d));
    } else {
      g_variant_builder_add_value(&dns, Ipv6Bytes(d));
    }
  }
  if (any_dns) {
    g_variant_builder_add(b, "{sv}", "dns", g_variant_builder_end(&dns));
  } else {
    g_variant_builder_clear(&dns);
  }
  if (!c.dns_search.empty()) {
    GVariantBuilder domains;
    g_variant_builder_init(&domains, G_VARIANT_TYPE_STRING_ARRAY);
    for (const auto& d : c.dns_search) g_variant_builder_add(&domains, "s", d.c_str());
    g_variant_builder_add(b, "{sv}", "domains", g_variant_builder_end(&domains));
  }
}

// The peers' allowed IPs of family `f` as routes ("routes": aau or
// a(ayuayu)) and "never-default" unless one of them is the default route.
void AddRoutes(GVariantBuilder* b, const Config& c, Address::Family f) {
  const bool v4 = f == Address::Family::kIpv4;
  bool default_route = false;
  GVariantBuilder routes;
  g_variant_builder_init(&routes, v4 ? G_VARIANT_TYPE("aau") : G_VARIANT_TYPE("a(ayuayu)"));
  for (const Peer& peer : c.peers) {
    for (const Cidr& ip : peer.allowed_ips) {
      if (ip.address.family != f) continue;
      if (IsDefaultRoute(ip)) {
        default_route = true;
        continue;
      }
      Address net = Masked(ip);
      if (v4) {
        guint32 route[4] = {Ipv4Word(net), ip.prefix, 0, 0};
        g_variant_builder_add_value(
            &routes, g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, route, 4, sizeof(guint32)));
      } else {
        Address zero;
        zero.family = Address::Family::kIpv6;
        g_variant_builder_add_value(
            &routes, g_variant_new("(@ayu@ayu)", Ipv6Bytes(net), static_cast<guint32>(ip.prefix),
                                   Ipv6Bytes(zero), 0u));
      }
    }
  }
  g_variant_builder_add(b, "{sv}", "routes", g_variant_builder_end(&routes));
  g_variant_builder_add(b, "{sv}", "never-default", g_variant_new_boolean(!default_route));
}

// The ip4 or ip6 configuration: the tunnel's first address of family `f`,
// DNS and routes; null when the tunnel has no address of that family.
GVariant* IpConfig(const Config& c, Address::Family f) {
  auto address = std::find_if(c.addresses.begin(), c.addresses.end(),
                              [f](const Cidr& a) { return a.address.family == f; });
  if (address == c.addresses.end()) return nullptr;
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add(&b, "{sv}", "address",
                        f == Address::Family::kIpv4
                            ? g_variant_new_uint32(Ipv4Word(address->address))
                            : Ipv6Bytes(address->address));
  g_variant_builder_add(&b, "{sv}", "prefix", g_variant_new_uint32(address->prefix));
  AddDns(&b, c, f);
  AddRoutes(&b, c, f);
  return g_variant_builder_end(&b);
}

}  // namespace

NmConfig BuildNmConfig(const Config& c, const std::string& ifname,
                       const std::vector<PeerEndpoint>& gateways) {
  NmConfig out;
  out.general = GeneralConfig(c, ifname, gateways);
  out.ip4 = IpConfig(c, Address::Family::kIpv4);
  out.ip6 = IpConfig(c, Address::Family::kIpv6);
  return out;
}

Service::Service(GDBusConnection* bus) : bus_(bus) {}

Service::~Service() { Disconnect(); }

bool Service::NeedsSecrets(NMConnection* connection) {
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  if (vpn == nullptr) return false;
  const char* key = nm_setting_vpn_get_secret(vpn, kSecretPrivateKey);
  return key == nullptr || *key == '\0';
}

std::vector<Endpoint> Service::EngagedEndpoints() {
  auto guard = GuardClient::Connect();
  if (!guard.ok()) return {};
  auto policy = guard.value()->GetPolicy(uuid_);
  if (!policy.ok() || !policy.value()) return {};
  return policy.value()->endpoints;
}

namespace {

// The peers' endpoints as the servers the shared resolver looks up: UDP,
// either family.
std::vector<Remote> RemotesOf(const Config& config) {
  std::vector<Remote> remotes;
  for (const Peer& peer : config.peers) {
    if (peer.endpoint) remotes.push_back({peer.endpoint->host, peer.endpoint->port});
  }
  return remotes;
}

}  // namespace

Result<std::vector<Endpoint>> Service::ResolveEndpoints(const Settings& settings,
                                                        std::vector<PeerEndpoint>* chosen) {
  const std::vector<Remote> remotes = RemotesOf(settings.config);
  if (remotes.empty()) {
    return Status::Error(
        _("no peer has an endpoint: NetworkManager needs the VPN server's address"));
  }
  Resolution resolved = Resolve(remotes, kResolveBudget);
  // With the kill switch off nothing is held, and the guard is not asked.
  KeepHeld(remotes, &resolved, [this] {
    return options_.kill_switch == Options::KillSwitch::kOff ? std::vector<Endpoint>{}
                                                             : EngagedEndpoints();
  });
  std::vector<Endpoint> all;
  for (size_t i = 0; i < remotes.size(); ++i) {
    const Remote& remote = remotes[i];
    const Resolution::Answer& answer = resolved.answers[i];
    if (answer.endpoints.empty() && answer.name_failed) {
      return Status::Error(Format(_("the VPN server %s does not resolve (%s); nothing was "
                                    "opened"),
                                  remote.host.c_str(), answer.why.c_str()));
    }
    if (answer.endpoints.empty()) {
      return Status::Error(Format(_("the VPN server %s has no usable address; nothing was opened"),
                                  remote.host.c_str()));
    }
    if (answer.name_failed) {
      g_message(
          "%s does not resolve (%s); using the %zu address(es) the kill switch already "
          "allows for it",
          remote.host.c_str(), answer.why.c_str(), answer.endpoints.size());
    }
    chosen->push_back({answer.endpoints.front().address, remote.port});
    for (Endpoint e : answer.endpoints) {
      e.mark = kDefaultMark;
      all.push_back(e);
    }
  }
  return all;
}

namespace {

// The tunnel's device configuration: the keys decoded, each peer with the
// endpoint address chosen for it.
Result<DeviceConfig> DeviceConfigOf(const Settings& settings, const std::string& ifname,
                                    const std::vector<PeerEndpoint>& chosen) {
  DeviceConfig dev;
  dev.ifname = ifname;
  auto private_key = DecodeKey(settings.config.private_key);
  if (!private_key.ok()) return private_key.status();
  dev.private_key = SecretKey(private_key.value());
  dev.listen_port = settings.config.listen_port;
  dev.mtu = settings.config.mtu.value_or(kDefaultMtu);
  dev.fwmark = kDefaultMark;
  size_t next_endpoint = 0;
  for (const Peer& peer : settings.config.peers) {
    PeerConfig pc;
    auto pub = DecodeKey(peer.public_key);
    if (!pub.ok()) return pub.status();
    pc.public_key = pub.value();
    if (!peer.preshared_key.empty()) {
      auto psk = DecodeKey(peer.preshared_key);
      if (!psk.ok()) return psk.status();
      pc.preshared_key = SecretKey(psk.value());
    }
    if (peer.endpoint) pc.endpoint = chosen[next_endpoint++];
    for (const Cidr& ip : peer.allowed_ips) pc.allowed_ips.push_back({ip.address, ip.prefix});
    pc.persistent_keepalive = peer.persistent_keepalive;
    dev.peers.push_back(std::move(pc));
  }
  return dev;
}

}  // namespace

Result<NmConfig> Service::Connect(NMConnection* connection) {
  Disconnect();  // a second Connect replaces the first
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  if (vpn == nullptr) return Status::Error(_("the connection has no VPN setting"));
  auto settings = FromVpnSetting(vpn);
  if (!settings.ok()) return settings.status();
  const char* uuid = nm_connection_get_uuid(connection);
  if (uuid == nullptr || *uuid == '\0') return Status::Error(_("the connection has no UUID"));
  uuid_ = uuid;
  ifname_ = TunnelName(uuid_);
  options_ = settings.value().options;

  // Listen before anything can end: NetworkManager's signals tell later
  // whether the user switched the VPN off.
  ending_watch_ = std::make_unique<EndingWatch>(bus_, uuid_);
  if (!ending_watch_->Resolve()) {
    g_warning("cannot find the active connection of %s; any ending will keep blocking",
              uuid_.c_str());
  }

  std::vector<PeerEndpoint> chosen;
  auto endpoints = ResolveEndpoints(settings.value(), &chosen);
  if (!endpoints.ok()) return endpoints.status();
  if (options_.kill_switch != Options::KillSwitch::kOff) {
    if (Status s = EngageKillSwitch(settings.value(), endpoints.value()); !s.ok()) return s;
  }
  auto device = DeviceConfigOf(settings.value(), ifname_, chosen);
  if (!device.ok()) return device.status();
  if (Status s = StartTunnel(device.value()); !s.ok()) return s;
  WatchTunnel();
  return BuildNmConfig(settings.value().config, ifname_, chosen);
}

Status Service::EngageKillSwitch(const Settings& settings, const std::vector<Endpoint>& endpoints) {
  auto guard = GuardClient::Connect();
  if (!guard.ok()) {
    return Status::Error(
        Format(_("the kill switch cannot be engaged: %s"), guard.message().c_str()));
  }
  Policy policy = BuildPolicy(settings, ifname_, endpoints);
  if (Status s = guard.value()->Engage(uuid_, policy, options_.block_at_boot); !s.ok()) {
    return Status::Error(Format(_("the kill switch cannot be engaged: %s"), s.message().c_str()));
  }
  engaged_ = true;
  Log(Format("kill switch engaged for %s: tunnel %s, %zu endpoint address(es)", uuid_.c_str(),
             ifname_.c_str(), endpoints.size()));
  return Status::Ok();
}

Status Service::StartTunnel(const DeviceConfig& device) {
  // The kernel's WireGuard when it has one, wireguard-go otherwise (or when
  // a tun of ours is left from before).
  bool userspace = InterfaceExists(ifname_) && IsTun(ifname_);
  if (!userspace) {
    int err = 0;
    Status created = KernelTunnel::CreateLink(ifname_, &err);
    if (created.ok()) {
      tunnel_ = std::make_unique<KernelTunnel>(Log);
    } else if (err == EOPNOTSUPP || err == EINVAL) {
      userspace = true;
    } else {
      return created;
    }
  }
  if (userspace) tunnel_ = std::make_unique<UserspaceTunnel>(Log);
  if (Status s = tunnel_->Configure(device); !s.ok()) {
    tunnel_->Remove();
    tunnel_.reset();
    return Status::Error(Format(_("%s; the kill switch stays engaged"), s.message().c_str()));
  }
  Log(Format("tunnel %s up (%s)", ifname_.c_str(), userspace ? "wireguard-go" : "kernel"));
  return Status::Ok();
}

void Service::WatchTunnel() {
  if (Status s = JoinTunnelGroup(ifname_, kTunnelGroup); !s.ok()) {
    g_warning("%s", s.message().c_str());
  }
  if (Status s = EnsureMarkRules(kDefaultMark, kTunnelGroup); !s.ok()) {
    g_warning("%s", s.message().c_str());
  }
  auto watch = NetworkWatch::Start(ifname_, [this] { OnNetworkChanged(); });
  if (watch.ok()) {
    network_watch_ = std::move(watch).value();
  } else {
    g_warning("%s", watch.message().c_str());
  }
}

void Service::OnNetworkChanged() {
  if (!tunnel_) return;
  if (Status s = tunnel_->RefreshEndpoints(); !s.ok()) g_warning("%s", s.message().c_str());
}

void Service::Disconnect() {
  if (uuid_.empty()) return;
  Ending ending = ending_watch_ ? ending_watch_->Decide() : Ending::kUnknown;
  network_watch_.reset();
  if (tunnel_) {
    tunnel_->Remove();
    tunnel_.reset();
  }
  if (engaged_) {
    const bool user_off = ending == Ending::kUserOff || ending == Ending::kProfileDeleted;
    if (user_off && options_.kill_switch == Options::KillSwitch::kOn) {
      auto guard = GuardClient::Connect();
      Status s = guard.ok() ? guard.value()->Release(uuid_) : guard.status();
      if (s.ok()) {
        Log(Format("%s: %s; kill switch released", uuid_.c_str(), EndingName(ending)));
      } else {
        g_warning(
            "%s: %s, but the kill switch could not be released (%s); traffic stays "
            "blocked until `nm-killswitch release` is run",
            uuid_.c_str(), EndingName(ending), s.message().c_str());
      }
    } else {
      Log(Format("%s: %s; the kill switch stays engaged%s", uuid_.c_str(), EndingName(ending),
                 options_.kill_switch == Options::KillSwitch::kLockdown
                     ? " (lockdown: an administrator releases it)"
                     : ""));
    }
  }
  ending_watch_.reset();
  engaged_ = false;
  uuid_.clear();
}

}  // namespace nmks::wg
