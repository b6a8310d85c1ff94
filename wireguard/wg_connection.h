// A Config and the kill-switch options as a NetworkManager connection of
// our VPN type: the contract between the editor plugin (which writes it)
// and the VPN service (which reads it). Everything lives in the connection's
// NMSettingVpn: plain values as vpn.data items, the private and preshared
// keys as vpn.secrets with flags 0, so NetworkManager stores them and the
// connection can come up at boot without a secret agent.
//
//   vpn.data                        value
//   address                         "192.0.2.2/32, 2001:db8::2/128"
//   dns                             "192.0.2.53, 2001:db8::53"
//   dns-search                      "example.com, ~corp.example"
//   mtu, listen-port                decimal
//   peer.N.public-key               base64 (N = 0, 1, 2... without gaps)
//   peer.N.allowed-ips              "0.0.0.0/0, ::/0"
//   peer.N.endpoint                 "vpn.example.net:51820", "[2001:db8::1]:51820"
//   peer.N.persistent-keepalive     seconds
//   kill-switch                     on (default) | lockdown | off
//   allow-lan, block-at-boot        no (default) | yes
//   ipv6                            auto (default) | block
//   private-key-flags               NMSettingSecretFlags of the private key
//   peer.N.preshared-key-flags      the same for a preshared key
//   vpn.secrets: private-key, peer.N.preshared-key
//
// Keys never go into vpn.data and never into a message.
#pragma once

#include <string>

#include "base/libnm.h"

#include "base/status.h"
#include "wireguard/wg_config.h"

namespace nmks::wg {

inline constexpr char kServiceType[] = "org.freedesktop.NetworkManager.killswitch";

// vpn.data and vpn.secrets names (per-peer ones take "peer.N." in front).
inline constexpr char kKeyAddress[] = "address";
inline constexpr char kKeyDns[] = "dns";
inline constexpr char kKeyDnsSearch[] = "dns-search";
inline constexpr char kKeyMtu[] = "mtu";
inline constexpr char kKeyListenPort[] = "listen-port";
inline constexpr char kKeyKillSwitch[] = "kill-switch";
inline constexpr char kKeyAllowLan[] = "allow-lan";
inline constexpr char kKeyBlockAtBoot[] = "block-at-boot";
inline constexpr char kKeyIpv6[] = "ipv6";
inline constexpr char kSecretPrivateKey[] = "private-key";
inline constexpr char kPeerPublicKey[] = "public-key";
inline constexpr char kPeerAllowedIps[] = "allowed-ips";
inline constexpr char kPeerEndpoint[] = "endpoint";
inline constexpr char kPeerPersistentKeepalive[] = "persistent-keepalive";
inline constexpr char kPeerPresharedKey[] = "preshared-key";  // a secret

// "peer.3.endpoint" for PeerKey(3, kPeerEndpoint).
std::string PeerKey(size_t index, const char* name);

// The kill-switch choices of one connection.
struct Options {
  enum class KillSwitch { kOn, kLockdown, kOff };
  enum class Ipv6 {
    kAuto,   // through the tunnel when it has an IPv6 address, blocked otherwise
    kBlock,  // always blocked
  };
  KillSwitch kill_switch = KillSwitch::kOn;
  bool allow_lan = false;
  bool block_at_boot = false;
  Ipv6 ipv6 = Ipv6::kAuto;

  bool operator==(const Options&) const = default;
};

struct Settings {
  Config config;
  Options options;

  bool operator==(const Settings&) const = default;
};

// Writes `config` and `options` into `connection`: connection.type "vpn"
// (and a new uuid when it has none; the id is the caller's), an NMSettingVpn
// with service-type kServiceType whose data and secrets are replaced by
// exactly the items above (its other properties are kept), and ipv4/ipv6
// settings with method "auto" when the connection has none. Fails, changing
// nothing, when `config` does not pass ValidateConfig().
Status ToConnection(const Config& config, const Options& options, NMConnection* connection);

// Reads a connection's NMSettingVpn back. Strict: another service type,
// an unknown data or secret item, a key in vpn.data, a malformed value,
// a missing private key, no peer or a gap in the peer numbers is an error
// that names the item.
Result<Settings> FromVpnSetting(NMSettingVpn* vpn);

}  // namespace nmks::wg
