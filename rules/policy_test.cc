#include "rules/policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>

#include "rules/ruleset.h"

namespace nmks {
namespace {

Policy OneTunnel() {
  Policy p;
  p.tunnels = {"wg0"};
  return p;
}

TEST(AddressTest, ParsesBothFamilies) {
  auto v4 = Address::Parse("203.0.113.7");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4.value().family, Address::Family::kIpv4);
  EXPECT_EQ(v4.value().ToString(), "203.0.113.7");
  auto v6 = Address::Parse("2001:db8::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6.value().family, Address::Family::kIpv6);
  EXPECT_EQ(v6.value().ToString(), "2001:db8::1");
}

TEST(AddressTest, RefusesWhatIsNotAnAddress) {
  for (const char* bad : {"", "vpn.example.net", "203.0.113", "203.0.113.256", "2001:db8::g",
                          "[2001:db8::1]", "203.0.113.1 "}) {
    auto a = Address::Parse(bad);
    EXPECT_FALSE(a.ok()) << bad;
  }
  EXPECT_NE(Address::Parse("vpn.example.net").message().find("vpn.example.net"), std::string::npos);
  EXPECT_FALSE(Address::Parse(std::string("192.0.2.1\0junk", 14)).ok());
  EXPECT_FALSE(Endpoint::Parse(std::string("192.0.2.1\0:51820", 16)).ok());
}

TEST(EndpointTest, ParsesTheCommandLineForm) {
  auto e = Endpoint::Parse("203.0.113.1:51820");
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(e.value().port, 51820);
  EXPECT_EQ(e.value().protocol, Protocol::kUdp);
  EXPECT_FALSE(e.value().mark.has_value());

  e = Endpoint::Parse("203.0.113.1:443/tcp");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.value().protocol, Protocol::kTcp);

  e = Endpoint::Parse("[2001:db8::1]:51820/udp");
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ(e.value().address.family, Address::Family::kIpv6);
  EXPECT_EQ(e.value().ToString(), "[2001:db8::1]:51820/udp");
}

TEST(EndpointTest, NamesWhatIsWrong) {
  struct Case {
    const char* text;
    const char* says;
  } cases[] = {
      {"203.0.113.1", "ADDRESS:PORT"},
      {"203.0.113.1:0", "1 to 65535"},
      {"203.0.113.1:65536", "1 to 65535"},
      {"203.0.113.1:51820x", "1 to 65535"},
      {"203.0.113.1:-1", "1 to 65535"},
      {"203.0.113.1:51820/sctp", "udp or tcp"},
      {"2001:db8::1:51820", "[ADDRESS]:PORT"},
      {"[2001:db8::1]51820", "[ADDRESS]:PORT"},
      {"[2001:db8::1", "[ADDRESS]:PORT"},
      {"vpn.example.net:51820", "not an IPv4 or IPv6 address"},
  };
  for (const auto& c : cases) {
    auto e = Endpoint::Parse(c.text);
    ASSERT_FALSE(e.ok()) << c.text;
    EXPECT_NE(e.message().find(c.says), std::string::npos) << c.text << ": " << e.message();
  }
}

TEST(ValidateTest, AcceptsAReasonablePolicy) {
  Policy p = OneTunnel();
  p.endpoints.push_back(Endpoint::Parse("203.0.113.1:51820").value());
  p.connections = {"home VPN"};
  EXPECT_TRUE(Validate(p).ok()) << Validate(p).message();
}

TEST(ValidateTest, RefusesAnEmptyPolicy) {
  Status s = Validate(Policy{});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no tunnel interface"), std::string::npos);
}

// A tunnel-less policy only when asked for on purpose (the dispatcher
// hook's fail-closed engagement), and merged with another it stays strict.
TEST(ValidateTest, NoTunnelOnlyOnPurpose) {
  Policy p;
  p.endpoints.push_back(Endpoint::Parse("203.0.113.1:1194").value());
  EXPECT_FALSE(Validate(p).ok());
  p.no_tunnel = true;
  EXPECT_TRUE(Validate(p).ok()) << Validate(p).message();
  Policy merged = Merge({{"office", p}});
  EXPECT_TRUE(merged.no_tunnel);
  EXPECT_TRUE(merged.tunnels.empty());
  EXPECT_TRUE(Validate(merged).ok()) << Validate(merged).message();
  Policy with_tunnel = OneTunnel();
  merged = Merge({{"office", p}, {"home", with_tunnel}});
  EXPECT_EQ(merged.tunnels, with_tunnel.tunnels);
  EXPECT_TRUE(Validate(merged).ok());
}

TEST(ValidateTest, RefusesBadInterfaceNames) {
  for (std::string bad :
       {std::string(""), std::string("sixteen-bytes-xx"), std::string("wg 0"), std::string("wg/0"),
        std::string("wg:0"), std::string("."), std::string("wg\xff"), std::string("wg\n0"),
        std::string("wg\0", 3), std::string("lo")}) {
    Policy p;
    p.tunnels = {bad};
    EXPECT_FALSE(Validate(p).ok()) << "accepted tunnel name: " << bad;
  }
  Policy p;
  p.tunnels = {"fifteen-bytes-x"};
  EXPECT_TRUE(Validate(p).ok());
}

// Names that nft text would read differently than the policy means: a quote
// ends the string (`a","eth0` would add eth0 to the tunnels when the boot
// file's table is fed to nft -f), '*' is a wildcard, '\' an escape. Refused,
// naming the tunnel; what real interfaces are called is accepted.
TEST(ValidateTest, TunnelNamesAreSafeInNftText) {
  for (std::string bad : {"a\",\"eth0", "wg*", "a\\b", "a'b", "a;b", "a{b}", "a#b", "a$b", "a,b",
                          "a\tb", "..", "a%b", "a!b", "a(b)", "a`b"}) {
    Policy p;
    p.tunnels = {bad};
    Status s = Validate(p);
    EXPECT_FALSE(s.ok()) << "accepted tunnel name: " << bad;
  }
  Policy p;
  p.tunnels = {"a\",\"eth0"};
  EXPECT_EQ(Validate(p).message(),
            "tunnel interface name \"a???eth0\" has a character that is not allowed: use letters, "
            "digits and - _ . + @ = only (no space, quote, '\\', '*', '/', ':', or a byte outside "
            "printable ASCII)");
  for (const char* good : {"wg0", "tun0", "wg-home.1", "vpn_work", "ppp0", "nordlynx", "wg+x@y=z",
                           "WG0", "enp0s31f6"}) {
    p.tunnels = {good};
    EXPECT_TRUE(Validate(p).ok()) << good << ": " << Validate(p).message();
  }
}

TEST(ValidateTest, RefusesEndpointsThatAreNotServers) {
  for (const char* bad : {"0.0.0.0:1", "127.0.0.1:1", "224.0.0.1:1", "255.255.255.255:1", "[::]:1",
                          "[::1]:1", "[ff02::1]:1", "[::ffff:203.0.113.1]:1"}) {
    Policy p = OneTunnel();
    auto e = Endpoint::Parse(bad);
    ASSERT_TRUE(e.ok()) << bad;
    p.endpoints.push_back(e.value());
    EXPECT_FALSE(Validate(p).ok()) << bad;
  }
}

TEST(ValidateTest, RefusesAZeroMark) {
  Policy p = OneTunnel();
  Endpoint e = Endpoint::Parse("203.0.113.1:51820").value();
  e.mark = 0;
  p.endpoints.push_back(e);
  EXPECT_FALSE(Validate(p).ok());
}

TEST(ValidateTest, RefusesAMillionEndpoints) {
  Policy p = OneTunnel();
  Endpoint e = Endpoint::Parse("203.0.113.1:1").value();
  p.endpoints.assign(1000000, e);
  Status s = Validate(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("100000"), std::string::npos) << s.message();
}

TEST(ValidateTest, RefusesCgnatWithoutLan) {
  Policy p = OneTunnel();
  p.allow_cgnat = true;
  EXPECT_FALSE(Validate(p).ok());
  p.allow_lan = true;
  EXPECT_TRUE(Validate(p).ok());
}

TEST(ValidateTest, RefusesOddConnectionNames) {
  Policy p = OneTunnel();
  p.connections = {std::string("a\x01")};
  EXPECT_FALSE(Validate(p).ok());
  p.connections = {std::string(300, 'a')};
  EXPECT_FALSE(Validate(p).ok());
  p.connections = {""};
  EXPECT_FALSE(Validate(p).ok());
}

TEST(ParseTest, ModesAndIpv6) {
  EXPECT_EQ(ParseMode("lockdown").value(), Mode::kLockdown);
  EXPECT_EQ(ParseMode("on").value(), Mode::kOn);
  EXPECT_FALSE(ParseMode("off").ok());
  EXPECT_EQ(ParseIpv6Mode("tunnel").value(), Ipv6Mode::kTunnel);
  EXPECT_FALSE(ParseIpv6Mode("auto").ok());
}

TEST(MergeTest, UnitesExceptionsAndKeepsTheStrictestChoice) {
  Policy a = OneTunnel();
  a.endpoints.push_back(Endpoint::Parse("203.0.113.1:51820").value());
  a.allow_lan = true;
  a.ipv6 = Ipv6Mode::kTunnel;
  Policy b;
  b.tunnels = {"tun0", "wg0"};
  b.endpoints.push_back(Endpoint::Parse("203.0.113.2:1194").value());
  b.endpoints.push_back(Endpoint::Parse("203.0.113.1:51820").value());
  b.mode = Mode::kLockdown;

  Policy m = Merge({{"a", a}, {"b", b}});
  EXPECT_EQ(m.tunnels, (std::vector<std::string>{"tun0", "wg0"}));
  EXPECT_EQ(m.endpoints.size(), 2u);
  EXPECT_EQ(m.connections, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(m.allow_lan);
  EXPECT_EQ(m.ipv6, Ipv6Mode::kBlock);
  EXPECT_EQ(m.mode, Mode::kLockdown);

  Policy only_a = Merge({{"a", a}});
  EXPECT_TRUE(only_a.allow_lan);
  EXPECT_EQ(only_a.ipv6, Ipv6Mode::kTunnel);
  EXPECT_EQ(only_a.mode, Mode::kOn);
}

TEST(MergeTest, NothingEngagedIsAnEmptyPolicy) {
  Policy m = Merge({});
  EXPECT_TRUE(m.tunnels.empty());
  EXPECT_TRUE(m.connections.empty());
  EXPECT_FALSE(Validate(m).ok());
}

// Each endpoint's tuple is committed (and read back) once where it can be:
// an unmarked endpoint only in unmarked4/6, where both chains look; a
// marked one with its mark in marked4/6 and, for its replies (which carry
// no mark), in marked_in4/6 unless an unmarked endpoint has the same tuple.
TEST(RulesetTest, EachEndpointTupleIsInTheTableOnce) {
  Policy p = OneTunnel();
  for (const char* text : {"203.0.113.1:1194", "203.0.113.2:1194", "[2001:db8::1]:1194",
                           "203.0.113.3:51820", "203.0.113.1:1194", "[2001:db8::3]:51820"}) {
    p.endpoints.push_back(Endpoint::Parse(text).value());
  }
  for (size_t i = 3; i < p.endpoints.size(); ++i) p.endpoints[i].mark = 0x6b73;
  for (bool normalized : {true, false}) {
    SCOPED_TRACE(normalized ? "normalized" : "in reverse order");
    Policy q = p;
    if (normalized) {
      Normalize(q);
    } else {
      std::reverse(q.endpoints.begin(), q.endpoints.end());
    }
    const Ruleset r = BuildRuleset(q);
    auto elements = [&r](const std::string& name) {
      auto it = std::find_if(r.sets.begin(), r.sets.end(),
                             [&name](const SetDef& s) { return s.name == name; });
      if (it == r.sets.end()) {
        ADD_FAILURE() << "no set " << name;
        return size_t{0};
      }
      return it->elements.size();
    };
    EXPECT_EQ(elements("unmarked4"), 2u);
    EXPECT_EQ(elements("unmarked6"), 1u);
    EXPECT_EQ(elements("marked4"), 2u);
    EXPECT_EQ(elements("marked6"), 1u);
    EXPECT_EQ(elements("marked_in4"), 1u) << "203.0.113.1 . udp . 1194 is in unmarked4 already";
    EXPECT_EQ(elements("marked_in6"), 1u);
    EXPECT_EQ(r.sets.size(), 8u);
  }
}

}  // namespace
}  // namespace nmks
