// WriteWgQuick: the canonical wg-quick form of a Config.
#include <string>
#include <vector>

#include "wireguard/wg_config.h"

namespace nmks::wg {
namespace {

template <typename T, typename F>
std::string Join(const std::vector<T>& items, F to_string) {
  std::string out;
  for (const T& item : items) {
    if (!out.empty()) out += ", ";
    out += to_string(item);
  }
  return out;
}

void Put(std::string& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  out += key;
  out += " = ";
  out += value;
  out += '\n';
}

}  // namespace

std::string WriteWgQuick(const Config& config) {
  std::string out = "[Interface]\n";
  Put(out, "PrivateKey", config.private_key);
  Put(out, "Address", Join(config.addresses, [](const Cidr& c) { return c.ToString(); }));
  std::string dns = Join(config.dns, [](const Address& a) { return a.ToString(); });
  for (const std::string& domain : config.dns_search) {
    if (!dns.empty()) dns += ", ";
    dns += domain;
  }
  Put(out, "DNS", dns);
  if (config.mtu) Put(out, "MTU", std::to_string(*config.mtu));
  if (config.listen_port) Put(out, "ListenPort", std::to_string(*config.listen_port));
  for (const Peer& peer : config.peers) {
    out += "\n[Peer]\n";
    Put(out, "PublicKey", peer.public_key);
    Put(out, "PresharedKey", peer.preshared_key);
    Put(out, "AllowedIPs", Join(peer.allowed_ips, [](const Cidr& c) { return c.ToString(); }));
    if (peer.endpoint) Put(out, "Endpoint", peer.endpoint->ToString());
    if (peer.persistent_keepalive != 0) {
      Put(out, "PersistentKeepalive", std::to_string(peer.persistent_keepalive));
    }
  }
  return out;
}

}  // namespace nmks::wg
