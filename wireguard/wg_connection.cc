// ToConnection and FromVpnSetting: a Config as vpn.data and vpn.secrets.
#include "wireguard/wg_connection.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "base/glib_ptr.h"
#include "base/i18n.h"
#include "wireguard/printable.h"

namespace nmks::wg {
namespace {

constexpr char kFlagsSuffix[] = "-flags";
constexpr char kPeerPrefix[] = "peer.";
constexpr unsigned kAllSecretFlags = NM_SETTING_SECRET_FLAG_AGENT_OWNED |
                                     NM_SETTING_SECRET_FLAG_NOT_SAVED |
                                     NM_SETTING_SECRET_FLAG_NOT_REQUIRED;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

const char* KillSwitchName(Options::KillSwitch k) {
  switch (k) {
    case Options::KillSwitch::kLockdown:
      return "lockdown";
    case Options::KillSwitch::kOff:
      return "off";
    case Options::KillSwitch::kOn:
      break;
  }
  return "on";
}

// A data or secret name safe to repeat in a message: ours are short and
// lowercase; a pasted key is neither.
std::string ShowName(std::string_view name) {
  bool plain =
      name.size() <= 40 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
      });
  return plain ? std::string(name) : std::string(_("(a name that is not shown)"));
}

Status ItemError(std::string_view name, const std::string& message) {
  return Status::Error(Format(_("vpn.data %s: %s"), ShowName(name).c_str(), message.c_str()));
}

std::vector<std::string> DataKeys(NMSettingVpn* vpn) {
  guint n = 0;
  GFreePtr<const char*> keys(nm_setting_vpn_get_data_keys(vpn, &n));
  return std::vector<std::string>(keys.get(), keys.get() + n);
}

std::vector<std::string> SecretKeys(NMSettingVpn* vpn) {
  guint n = 0;
  GFreePtr<const char*> keys(nm_setting_vpn_get_secret_keys(vpn, &n));
  return std::vector<std::string>(keys.get(), keys.get() + n);
}

// "peer.N.rest" -> N and rest. N is decimal without leading zeros, below
// kMaxPeers, so each peer has exactly one spelling.
bool SplitPeerKey(std::string_view key, size_t& index, std::string_view& rest) {
  if (key.substr(0, sizeof kPeerPrefix - 1) != kPeerPrefix) return false;
  key.remove_prefix(sizeof kPeerPrefix - 1);
  size_t dot = key.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 5) return false;
  std::string_view number = key.substr(0, dot);
  if (number.size() > 1 && number[0] == '0') return false;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), index);
  if (ec != std::errc() || end != number.data() + number.size() || index >= kMaxPeers) {
    return false;
  }
  rest = key.substr(dot + 1);
  return true;
}

Status ParseYesNo(std::string_view key, std::string_view value, bool& out) {
  if (value == "yes") {
    out = true;
  } else if (value == "no") {
    out = false;
  } else {
    return ItemError(key, Format(_("\"%s\" must be yes or no"), Printable(value).c_str()));
  }
  return Status::Ok();
}

Status ParseSecretFlags(std::string_view key, std::string_view value) {
  unsigned flags = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), flags);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() ||
      flags > kAllSecretFlags) {
    return ItemError(key, Format(_("\"%s\" is not a valid set of secret flags (0 to %u)"),
                                 Printable(value).c_str(), kAllSecretFlags));
  }
  return Status::Ok();
}

Result<std::vector<Cidr>> ParseCidrList(std::string_view key, std::string_view value) {
  auto items = SplitList(value);
  if (!items.ok()) return ItemError(key, items.message());
  std::vector<Cidr> out;
  for (std::string_view item : items.value()) {
    auto cidr = Cidr::Parse(item);
    if (!cidr.ok()) return ItemError(key, cidr.message());
    out.push_back(cidr.value());
  }
  return out;
}

struct PeerItems {
  Peer peer;
  bool has_public_key = false;
};

class Reader {
 public:
  explicit Reader(NMSettingVpn* vpn) : vpn_(vpn) {}
  Result<Settings> Run();

 private:
  Status Data(const std::string& key, std::string_view value);
  Status Addresses(const std::string& key, std::string_view value);
  Status DnsServers(const std::string& key, std::string_view value);
  Status DnsSearch(const std::string& key, std::string_view value);
  Status KillSwitch(const std::string& key, std::string_view value);
  Status Ipv6(const std::string& key, std::string_view value);
  Status PeerData(const std::string& key, size_t index, std::string_view name,
                  std::string_view value);
  Status Secret(const std::string& key, std::string_view value);

  NMSettingVpn* vpn_;
  Settings settings_;
  std::map<size_t, PeerItems> peers_;
  bool has_private_key_ = false;
};

Result<Settings> Reader::Run() {
  const char* service = nm_setting_vpn_get_service_type(vpn_);
  if (!service || std::string_view(service) != kServiceType) {
    return Status::Error(Format(_("the connection's VPN type is %s, not %s"),
                                service ? Printable(service).c_str() : _("(none)"), kServiceType));
  }
  for (const std::string& key : DataKeys(vpn_)) {
    const char* value = nm_setting_vpn_get_data_item(vpn_, key.c_str());
    if (Status s = Data(key, value ? value : ""); !s.ok()) return s;
  }
  if (peers_.empty()) {
    return Status::Error(Format(_("the connection has no peer: vpn.data needs at least %s"),
                                PeerKey(0, kPeerPublicKey).c_str()));
  }
  std::map<std::string_view, size_t> public_keys;
  for (size_t i = 0; i < peers_.size(); ++i) {
    auto it = peers_.find(i);
    if (it == peers_.end() || !it->second.has_public_key) {
      return Status::Error(Format(_("vpn.data has no %s: peers are numbered from 0 without gaps, "
                                    "and each has a public key"),
                                  PeerKey(i, kPeerPublicKey).c_str()));
    }
    auto [seen, fresh] = public_keys.emplace(it->second.peer.public_key, i);
    if (!fresh) {
      return Status::Error(Format(_("vpn.data %s is the same as %s: a peer can be listed only "
                                    "once"),
                                  PeerKey(i, kPeerPublicKey).c_str(),
                                  PeerKey(seen->second, kPeerPublicKey).c_str()));
    }
  }
  for (const std::string& key : SecretKeys(vpn_)) {
    const char* value = nm_setting_vpn_get_secret(vpn_, key.c_str());
    if (Status s = Secret(key, value ? value : ""); !s.ok()) return s;
  }
  if (!has_private_key_) {
    return Status::Error(
        Format(_("the connection has no private key (secret %s): it was never set, or "
                 "NetworkManager did not hand it over"),
               kSecretPrivateKey));
  }
  for (auto& [index, items] : peers_) settings_.config.peers.push_back(std::move(items.peer));
  if (Status s = ValidateConfig(settings_.config); !s.ok()) return s;
  return std::move(settings_);
}

Status Reader::Data(const std::string& key, std::string_view value) {
  Config& c = settings_.config;
  Options& o = settings_.options;
  size_t index = 0;
  std::string_view name;
  if (SplitPeerKey(key, index, name)) return PeerData(key, index, name, value);
  if (key == kKeyAddress) return Addresses(key, value);
  if (key == kKeyDns) return DnsServers(key, value);
  if (key == kKeyDnsSearch) return DnsSearch(key, value);
  if (key == kKeyMtu) {
    auto mtu = ParseMtu(value);
    if (!mtu.ok()) return ItemError(key, mtu.message());
    c.mtu = mtu.value();
    return Status::Ok();
  }
  if (key == kKeyListenPort) {
    auto port = ParsePort(value);
    if (!port.ok()) return ItemError(key, port.message());
    c.listen_port = port.value();
    return Status::Ok();
  }
  if (key == kKeyKillSwitch) return KillSwitch(key, value);
  if (key == kKeyAllowLan) return ParseYesNo(key, value, o.allow_lan);
  if (key == kKeyBlockAtBoot) return ParseYesNo(key, value, o.block_at_boot);
  if (key == kKeyIpv6) return Ipv6(key, value);
  if (key == std::string(kSecretPrivateKey) + kFlagsSuffix) return ParseSecretFlags(key, value);
  if (key == kSecretPrivateKey) {
    return Status::Error(Format(_("vpn.data has an item %s: a key must be a secret (vpn.secrets), "
                                  "never a data item"),
                                kSecretPrivateKey));
  }
  return Status::Error(Format(_("vpn.data has an unknown item %s"), ShowName(key).c_str()));
}

Status Reader::Addresses(const std::string& key, std::string_view value) {
  auto cidrs = ParseCidrList(key, value);
  if (!cidrs.ok()) return cidrs.status();
  for (const Cidr& cidr : cidrs.value()) {
    if (std::all_of(cidr.address.bytes.begin(), cidr.address.bytes.end(),
                    [](uint8_t b) { return b == 0; })) {
      return ItemError(
          key, Format(_("%s cannot be the tunnel's address"), Printable(cidr.ToString()).c_str()));
    }
  }
  settings_.config.addresses = cidrs.value();
  return Status::Ok();
}

Status Reader::DnsServers(const std::string& key, std::string_view value) {
  auto items = SplitList(value);
  if (!items.ok()) return ItemError(key, items.message());
  for (std::string_view item : items.value()) {
    auto a = Address::Parse(item);
    if (!a.ok()) {
      return ItemError(key,
                       Format(_("\"%s\" is not an IPv4 or IPv6 address"), Printable(item).c_str()));
    }
    if (std::all_of(a.value().bytes.begin(), a.value().bytes.end(),
                    [](uint8_t b) { return b == 0; })) {
      return ItemError(key, Format(_("%s cannot be a DNS server"), Printable(item).c_str()));
    }
    settings_.config.dns.push_back(a.value());
  }
  return Status::Ok();
}

Status Reader::DnsSearch(const std::string& key, std::string_view value) {
  auto items = SplitList(value);
  if (!items.ok()) return ItemError(key, items.message());
  for (std::string_view item : items.value()) {
    if (Status s = ValidateSearchDomain(item); !s.ok()) return ItemError(key, s.message());
    settings_.config.dns_search.emplace_back(item);
  }
  return Status::Ok();
}

Status Reader::KillSwitch(const std::string& key, std::string_view value) {
  Options& o = settings_.options;
  if (value == "on") {
    o.kill_switch = Options::KillSwitch::kOn;
  } else if (value == "lockdown") {
    o.kill_switch = Options::KillSwitch::kLockdown;
  } else if (value == "off") {
    o.kill_switch = Options::KillSwitch::kOff;
  } else {
    return ItemError(key,
                     Format(_("\"%s\" must be on, lockdown or off"), Printable(value).c_str()));
  }
  return Status::Ok();
}

Status Reader::Ipv6(const std::string& key, std::string_view value) {
  if (value == "auto") {
    settings_.options.ipv6 = Options::Ipv6::kAuto;
  } else if (value == "block") {
    settings_.options.ipv6 = Options::Ipv6::kBlock;
  } else {
    return ItemError(key, Format(_("\"%s\" must be auto or block"), Printable(value).c_str()));
  }
  return Status::Ok();
}

Status Reader::PeerData(const std::string& key, size_t index, std::string_view name,
                        std::string_view value) {
  PeerItems& items = peers_[index];
  Peer& peer = items.peer;
  if (name == kPeerPublicKey) {
    if (Status s = ValidateKey(value, key.c_str()); !s.ok()) return Status::Error(s.message());
    peer.public_key = std::string(value);
    items.has_public_key = true;
  } else if (name == kPeerAllowedIps) {
    auto cidrs = ParseCidrList(key, value);
    if (!cidrs.ok()) return cidrs.status();
    peer.allowed_ips = cidrs.value();
  } else if (name == kPeerEndpoint) {
    auto endpoint = HostPort::Parse(value);
    if (!endpoint.ok()) return ItemError(key, endpoint.message());
    peer.endpoint = endpoint.value();
  } else if (name == kPeerPersistentKeepalive) {
    auto seconds = ParseKeepalive(value);
    if (!seconds.ok()) return ItemError(key, seconds.message());
    peer.persistent_keepalive = seconds.value();
  } else if (name == std::string(kPeerPresharedKey) + kFlagsSuffix) {
    return ParseSecretFlags(key, value);
  } else if (name == kPeerPresharedKey) {
    return Status::Error(Format(_("vpn.data has an item %s: a key must be a secret (vpn.secrets), "
                                  "never a data item"),
                                key.c_str()));
  } else {
    return Status::Error(Format(_("vpn.data has an unknown item %s"), ShowName(key).c_str()));
  }
  return Status::Ok();
}

Status Reader::Secret(const std::string& key, std::string_view value) {
  if (key == kSecretPrivateKey) {
    if (Status s = ValidateKey(value, _("the private key")); !s.ok()) return s;
    settings_.config.private_key = std::string(value);
    has_private_key_ = true;
    return Status::Ok();
  }
  size_t index = 0;
  std::string_view name;
  if (SplitPeerKey(key, index, name) && name == kPeerPresharedKey) {
    auto it = peers_.find(index);
    if (it == peers_.end()) {
      return Status::Error(Format(_("the secret %s belongs to no peer"), ShowName(key).c_str()));
    }
    if (value.empty()) return Status::Ok();  // none
    if (Status s = ValidateKey(value, key.c_str()); !s.ok()) return s;
    it->second.peer.preshared_key = std::string(value);
    return Status::Ok();
  }
  return Status::Error(Format(_("vpn.secrets has an unknown item %s"), ShowName(key).c_str()));
}

}  // namespace

std::string PeerKey(size_t index, const char* name) {
  return kPeerPrefix + std::to_string(index) + "." + name;
}

namespace {

// The connection's VPN setting, made if it has none, emptied of our items.
NMSettingVpn* EmptyVpnSetting(NMConnection* connection) {
  NMSettingConnection* s_con = nm_connection_get_setting_connection(connection);
  if (!s_con) {
    s_con = NM_SETTING_CONNECTION(nm_setting_connection_new());
    nm_connection_add_setting(connection, NM_SETTING(s_con));  // takes the reference
  }
  g_object_set(s_con, NM_SETTING_CONNECTION_TYPE, NM_SETTING_VPN_SETTING_NAME, nullptr);
  if (!nm_setting_connection_get_uuid(s_con)) {
    GFreePtr<char> uuid(nm_utils_uuid_generate());
    g_object_set(s_con, NM_SETTING_CONNECTION_UUID, uuid.get(), nullptr);
  }
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  if (!vpn) {
    vpn = NM_SETTING_VPN(nm_setting_vpn_new());
    nm_connection_add_setting(connection, NM_SETTING(vpn));
  }
  g_object_set(vpn, NM_SETTING_VPN_SERVICE_TYPE, kServiceType, nullptr);
  for (const std::string& key : DataKeys(vpn)) nm_setting_vpn_remove_data_item(vpn, key.c_str());
  for (const std::string& key : SecretKeys(vpn)) nm_setting_vpn_remove_secret(vpn, key.c_str());
  return vpn;
}

// A data item, left out when empty.
void Put(NMSettingVpn* vpn, const std::string& key, const std::string& value) {
  if (!value.empty()) nm_setting_vpn_add_data_item(vpn, key.c_str(), value.c_str());
}

template <typename T>
std::string JoinTexts(const std::vector<T>& values) {
  std::vector<std::string> items;
  for (const T& v : values) items.push_back(v.ToString());
  return Join(items);
}

// Flags 0 (NM_SETTING_SECRET_FLAG_NONE): NetworkManager keeps the keys.
const std::string& NoSecretFlags() {
  static const std::string flags = std::to_string(NM_SETTING_SECRET_FLAG_NONE);
  return flags;
}

void PutPeers(NMSettingVpn* vpn, const std::vector<Peer>& peers) {
  for (size_t i = 0; i < peers.size(); ++i) {
    const Peer& peer = peers[i];
    Put(vpn, PeerKey(i, kPeerPublicKey), peer.public_key);
    Put(vpn, PeerKey(i, kPeerAllowedIps), JoinTexts(peer.allowed_ips));
    if (peer.endpoint) Put(vpn, PeerKey(i, kPeerEndpoint), peer.endpoint->ToString());
    if (peer.persistent_keepalive != 0) {
      Put(vpn, PeerKey(i, kPeerPersistentKeepalive), std::to_string(peer.persistent_keepalive));
    }
    if (!peer.preshared_key.empty()) {
      nm_setting_vpn_add_secret(vpn, PeerKey(i, kPeerPresharedKey).c_str(),
                                peer.preshared_key.c_str());
      Put(vpn, PeerKey(i, kPeerPresharedKey) + kFlagsSuffix, NoSecretFlags());
    }
  }
}

// IPv4 and IPv6 settings with method auto, where the connection has none.
void AddIpSettings(NMConnection* connection) {
  if (!nm_connection_get_setting_ip4_config(connection)) {
    NMSetting* ip4 = nm_setting_ip4_config_new();
    g_object_set(ip4, NM_SETTING_IP_CONFIG_METHOD, NM_SETTING_IP4_CONFIG_METHOD_AUTO, nullptr);
    nm_connection_add_setting(connection, ip4);
  }
  if (!nm_connection_get_setting_ip6_config(connection)) {
    NMSetting* ip6 = nm_setting_ip6_config_new();
    g_object_set(ip6, NM_SETTING_IP_CONFIG_METHOD, NM_SETTING_IP6_CONFIG_METHOD_AUTO, nullptr);
    nm_connection_add_setting(connection, ip6);
  }
}

}  // namespace

Status ToConnection(const Config& config, const Options& options, NMConnection* connection) {
  if (Status s = ValidateConfig(config); !s.ok()) return s;
  NMSettingVpn* vpn = EmptyVpnSetting(connection);
  Put(vpn, kKeyAddress, JoinTexts(config.addresses));
  Put(vpn, kKeyDns, JoinTexts(config.dns));
  Put(vpn, kKeyDnsSearch, Join(config.dns_search));
  if (config.mtu) Put(vpn, kKeyMtu, std::to_string(*config.mtu));
  if (config.listen_port) Put(vpn, kKeyListenPort, std::to_string(*config.listen_port));
  Put(vpn, kKeyKillSwitch, KillSwitchName(options.kill_switch));
  Put(vpn, kKeyAllowLan, options.allow_lan ? "yes" : "no");
  Put(vpn, kKeyBlockAtBoot, options.block_at_boot ? "yes" : "no");
  Put(vpn, kKeyIpv6, options.ipv6 == Options::Ipv6::kBlock ? "block" : "auto");
  nm_setting_vpn_add_secret(vpn, kSecretPrivateKey, config.private_key.c_str());
  Put(vpn, std::string(kSecretPrivateKey) + kFlagsSuffix, NoSecretFlags());
  PutPeers(vpn, config.peers);
  AddIpSettings(connection);
  return Status::Ok();
}

Result<Settings> FromVpnSetting(NMSettingVpn* vpn) {
  if (!vpn) return Status::Error(_("the connection has no VPN setting"));
  Reader reader(vpn);
  return reader.Run();
}

}  // namespace nmks::wg
