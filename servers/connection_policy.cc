#include "servers/connection_policy.h"

namespace nmks {

Policy ConnectionPolicy(const std::string& tunnel, const std::vector<Endpoint>& endpoints,
                        bool tunnel_has_ipv6, bool allow_lan, Mode mode) {
  Policy p;
  if (tunnel.empty()) {
    p.no_tunnel = true;
  } else {
    p.tunnels = {tunnel};
  }
  p.endpoints = endpoints;
  p.allow_lan = allow_lan;
  p.ipv6 = tunnel_has_ipv6 ? Ipv6Mode::kTunnel : Ipv6Mode::kBlock;
  p.mode = mode;
  Normalize(p);
  return p;
}

}  // namespace nmks
