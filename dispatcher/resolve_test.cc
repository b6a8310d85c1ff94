// Remotes -> endpoints: literals as they are, names through the resolver
// within the budget, never loopback, unspecified or multicast addresses,
// and the address family a remote asks for.
#include "dispatcher/resolve.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

namespace nmks::dispatch {
namespace {

using namespace std::chrono_literals;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;
using testing::SizeIs;

Endpoint E(const char* text) { return Endpoint::Parse(text).value(); }
Address A(const char* text) { return Address::Parse(text).value(); }

TEST(Resolve, LiteralsNeedNoLookup) {
  auto t0 = std::chrono::steady_clock::now();
  Resolution r = Resolve({{"203.0.113.1", 1194, Protocol::kUdp, Family::kAny},
                          {"2001:db8::1", 443, Protocol::kTcp, Family::kAny},
                          {"203.0.113.1", 1194, Protocol::kUdp, Family::kAny}},
                         0ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_THAT(r.unresolved, IsEmpty());
  EXPECT_THAT(r.endpoints, ElementsAre(E("203.0.113.1:1194/udp"), E("[2001:db8::1]:443/tcp")));
}

TEST(Resolve, AFamilyTheRemoteDoesNotUseIsLeftOut) {
  Resolution r = Resolve({{"2001:db8::1", 1194, Protocol::kUdp, Family::kIpv4},
                          {"203.0.113.1", 1194, Protocol::kUdp, Family::kIpv4}},
                         0ms);
  EXPECT_THAT(r.endpoints, ElementsAre(E("203.0.113.1:1194/udp")));
  ASSERT_THAT(r.unresolved, SizeIs(1));
  EXPECT_THAT(r.unresolved[0], HasSubstr("2001:db8::1 (port 1194/udp)"));
}

TEST(Resolve, NeverLoopbackUnspecifiedOrMulticast) {
  Resolution r = Resolve({{"127.0.0.1", 1, Protocol::kUdp, Family::kAny},
                          {"::1", 1, Protocol::kUdp, Family::kAny},
                          {"0.0.0.0", 1, Protocol::kUdp, Family::kAny},
                          {"224.0.0.1", 1, Protocol::kUdp, Family::kAny},
                          {"ff02::1", 1, Protocol::kUdp, Family::kAny},
                          // "localhost" resolves from /etc/hosts, to loopback
                          {"localhost", 1, Protocol::kUdp, Family::kAny}},
                         2000ms);
  EXPECT_THAT(r.endpoints, IsEmpty());
  EXPECT_THAT(r.unresolved, SizeIs(6));
  for (const auto& u : r.unresolved) EXPECT_THAT(u, HasSubstr("not a VPN server"));
}

TEST(Resolve, IPv4MappedAddressesBecomeIPv4) {
  std::string why;
  auto e = EndpointsFor({"x", 9, Protocol::kTcp, Family::kAny}, {A("::ffff:203.0.113.9")}, &why);
  EXPECT_THAT(e, ElementsAre(E("203.0.113.9:9/tcp")));
}

TEST(Resolve, ANameWithNoAnswerInTimeOpensNothing) {
  // An empty budget: the lookup is cancelled at once.
  auto t0 = std::chrono::steady_clock::now();
  Resolution r = Resolve({{"vpn.example.invalid", 1194, Protocol::kUdp, Family::kAny},
                          {"203.0.113.1", 1194, Protocol::kUdp, Family::kAny}},
                         1ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms);
  EXPECT_THAT(r.endpoints, ElementsAre(E("203.0.113.1:1194/udp")));
  ASSERT_THAT(r.unresolved, SizeIs(1));
  EXPECT_THAT(r.unresolved[0], HasSubstr("vpn.example.invalid (port 1194/udp)"));
}

}  // namespace
}  // namespace nmks::dispatch
