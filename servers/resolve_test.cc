// Remotes -> endpoints, as the VPN service and the dispatcher hook both get
// them: literals as they are, names through the resolver within the
// budget, never loopback, unspecified or multicast addresses, the address
// family a remote asks for, and, when a name does not resolve, what the
// guard already allows for the connection on that server's port.
#include "servers/resolve.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace nmks {
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
  ASSERT_THAT(r.answers, SizeIs(3));
  EXPECT_THAT(r.answers[1].endpoints, ElementsAre(E("[2001:db8::1]:443/tcp")));
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
  // A name that resolved, only to loopback, is not a name that failed:
  // nothing the guard holds stands in for it.
  EXPECT_FALSE(r.answers[5].name_failed);
}

TEST(Resolve, IPv4MappedAddressesBecomeIPv4) {
  std::string why;
  auto e = EndpointsFor({"x", 9, Protocol::kTcp, Family::kAny},
                        {A("::ffff:203.0.113.9"), A("203.0.113.9")}, &why);
  EXPECT_THAT(e, ElementsAre(E("203.0.113.9:9/tcp")));
  // ... and so are refused as what they stand for.
  e = EndpointsFor({"x", 9, Protocol::kTcp, Family::kAny}, {A("::ffff:127.0.0.1")}, &why);
  EXPECT_THAT(e, IsEmpty());
  EXPECT_THAT(why, HasSubstr("127.0.0.1 is loopback"));
}

TEST(Resolve, TheResolversOrderIsKeptForEachRemote) {
  // The VPN service gives WireGuard the first address of each peer.
  Resolution r = ResolutionOf({{"vpn.example.net", 51820, Protocol::kUdp, Family::kAny}},
                              {{"vpn.example.net", {{A("203.0.113.9"), A("192.0.2.1")}, ""}}});
  ASSERT_THAT(r.answers, SizeIs(1));
  EXPECT_THAT(r.answers[0].endpoints,
              ElementsAre(E("203.0.113.9:51820/udp"), E("192.0.2.1:51820/udp")));
  EXPECT_THAT(r.endpoints, ElementsAre(E("192.0.2.1:51820/udp"), E("203.0.113.9:51820/udp")));
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
  // What the user reads in the journal.
  EXPECT_THAT(r.unresolved[0], HasSubstr("vpn.example.invalid (port 1194/udp): "));
  EXPECT_TRUE(r.answers[0].name_failed);
  EXPECT_FALSE(r.answers[0].why.empty());
}

TEST(KeepHeld, ANameThatDoesNotResolveKeepsWhatTheGuardHoldsOnItsPort) {
  const std::vector<Remote> remotes = {{"vpn.example.invalid", 1194, Protocol::kUdp, Family::kAny},
                                       {"203.0.113.1", 443, Protocol::kTcp, Family::kAny}};
  Resolution r = Resolve(remotes, 1ms);
  int asked = 0;
  size_t kept = KeepHeld(remotes, &r, [&asked] {
    ++asked;
    Endpoint marked = E("203.0.113.66:1194/udp");
    marked.mark = 0x6b73;
    return std::vector<Endpoint>{marked, E("198.51.100.7:1195/udp"), E("198.51.100.8:1194/tcp")};
  });
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(kept, 1u);
  ASSERT_THAT(r.answers[0].endpoints, SizeIs(1));
  EXPECT_EQ(r.answers[0].endpoints[0].address, A("203.0.113.66"));
  EXPECT_EQ(r.answers[0].endpoints[0].mark, 0x6b73u);
  ASSERT_THAT(r.endpoints, SizeIs(2));
  EXPECT_EQ(r.endpoints[0], E("203.0.113.1:443/tcp"));
  // The user is still told the name did not resolve.
  ASSERT_THAT(r.unresolved, SizeIs(1));
  EXPECT_THAT(r.unresolved[0], HasSubstr("vpn.example.invalid (port 1194/udp)"));
}

TEST(KeepHeld, TheGuardIsAskedOnlyWhenANameFailsAndOnlyOnce) {
  std::vector<Remote> remotes = {{"203.0.113.1", 1194, Protocol::kUdp, Family::kAny},
                                 {"127.0.0.1", 1194, Protocol::kUdp, Family::kAny}};
  Resolution r = Resolve(remotes, 0ms);
  int asked = 0;
  auto held = [&asked] {
    ++asked;
    return std::vector<Endpoint>{E("203.0.113.66:1194/udp")};
  };
  EXPECT_EQ(KeepHeld(remotes, &r, held), 0u);
  EXPECT_EQ(asked, 0) << "every name resolved, a loopback literal is no name";
  remotes = {{"a.example.invalid", 1194, Protocol::kUdp, Family::kAny},
             {"b.example.invalid", 1194, Protocol::kUdp, Family::kAny}};
  r = Resolve(remotes, 1ms);
  EXPECT_EQ(KeepHeld(remotes, &r, held), 2u);
  EXPECT_EQ(asked, 1);
  EXPECT_THAT(r.endpoints, ElementsAre(E("203.0.113.66:1194/udp")));
}

TEST(KeepHeld, NothingHeldOpensNothing) {
  const std::vector<Remote> remotes = {{"vpn.example.invalid", 1194, Protocol::kUdp, Family::kAny}};
  Resolution r = Resolve(remotes, 1ms);
  EXPECT_EQ(KeepHeld(remotes, &r, [] { return std::vector<Endpoint>{}; }), 0u);
  EXPECT_THAT(r.endpoints, IsEmpty());
  EXPECT_THAT(r.answers[0].endpoints, IsEmpty());
}

}  // namespace
}  // namespace nmks
