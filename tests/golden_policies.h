// The policies behind tests/golden/*.nft: one per file, shared by the unit
// test that renders them and the kernel test that loads them.
#pragma once

#include <string>
#include <vector>

#include "rules/policy.h"
#include "rules/ruleset.h"

namespace nmks {

struct GoldenPolicy {
  std::string name;  // tests/golden/<name>.nft
  Policy policy;
  // BuildRuleset(policy), or for "block-all" BuildBlockAllRuleset().
  Ruleset Build() const {
    return name == "block-all" ? BuildBlockAllRuleset() : BuildRuleset(policy);
  }
};

inline std::vector<GoldenPolicy> GoldenPolicies() {
  auto endpoint = [](const char* text) { return Endpoint::Parse(text).value(); };
  auto marked = [&](const char* text) {
    Endpoint e = endpoint(text);
    e.mark = kDefaultMark;
    return e;
  };
  std::vector<GoldenPolicy> all;

  Policy one_tunnel;
  one_tunnel.tunnels = {"wg0"};
  all.push_back({"one-tunnel", one_tunnel});

  Policy wireguard;
  wireguard.tunnels = {"nmks0"};
  wireguard.endpoints = {marked("203.0.113.1:51820"), marked("[2001:db8::1]:51820")};
  wireguard.connections = {"Office"};
  all.push_back({"wireguard", wireguard});

  Policy openvpn;
  openvpn.tunnels = {"tun0", "tun1"};
  openvpn.endpoints = {endpoint("203.0.113.10:1194/udp"), endpoint("203.0.113.11:443/tcp"),
                       endpoint("[2001:db8::10]:1194/udp")};
  openvpn.allow_lan = true;
  openvpn.allow_cgnat = true;
  openvpn.ipv6 = Ipv6Mode::kTunnel;
  all.push_back({"openvpn-lan-ipv6", openvpn});

  Policy lan;
  lan.tunnels = {"wg0"};
  lan.endpoints = {marked("198.51.100.7:51820")};
  lan.allow_lan = true;
  all.push_back({"lan-ipv6-blocked", lan});

  all.push_back({"block-all", Policy{}});
  return all;
}

}  // namespace nmks
