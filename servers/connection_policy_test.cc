// One connection's policy, as the VPN service and the hook engage it.
#include "servers/connection_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace nmks {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

Endpoint E(const char* text) { return Endpoint::Parse(text).value(); }

TEST(ConnectionPolicy, TunnelEndpointsAndOptions) {
  Policy p = ConnectionPolicy("ks0123abcd", {E("203.0.113.9:51820/udp"), E("192.0.2.1:51820/udp")},
                              true, true, Mode::kLockdown);
  EXPECT_THAT(p.tunnels, ElementsAre("ks0123abcd"));
  EXPECT_FALSE(p.no_tunnel);
  EXPECT_THAT(p.endpoints, ElementsAre(E("192.0.2.1:51820/udp"), E("203.0.113.9:51820/udp")));
  EXPECT_EQ(p.ipv6, Ipv6Mode::kTunnel);
  EXPECT_TRUE(p.allow_lan);
  EXPECT_EQ(p.mode, Mode::kLockdown);
  EXPECT_TRUE(Validate(p).ok());
}

TEST(ConnectionPolicy, NoTunnelLetsOnlyTheServersOutAndIpv6IsBlockedWhenTheTunnelLacksIt) {
  Policy p = ConnectionPolicy("", {E("203.0.113.9:1194/udp")}, false, false, Mode::kOn);
  EXPECT_THAT(p.tunnels, IsEmpty());
  EXPECT_TRUE(p.no_tunnel);
  EXPECT_EQ(p.ipv6, Ipv6Mode::kBlock);
  EXPECT_TRUE(Validate(p).ok());
}

}  // namespace
}  // namespace nmks
