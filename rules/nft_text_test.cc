// Golden files: the whole table for representative policies, as `nft list
// table` prints it. A change to the table shows up as a diff of these files.
// NMKS_UPDATE_GOLDEN=1 rewrites them.
#include "rules/nft_text.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "rules/policy.h"
#include "rules/ruleset.h"

namespace nmks {
namespace {

std::string GoldenPath(const std::string& name) {
  return std::string(NMKS_SOURCE_DIR) + "/tests/golden/" + name + ".nft";
}

void ExpectGolden(const std::string& name, const std::string& actual) {
  const std::string path = GoldenPath(name);
  if (const char* update = std::getenv("NMKS_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(path) << actual;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << "missing golden file " << path << " (run with NMKS_UPDATE_GOLDEN=1)";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(expected.str(), actual) << "table differs from " << path;
}

Endpoint Marked(const char* text) {
  Endpoint e = Endpoint::Parse(text).value();
  e.mark = kDefaultMark;
  return e;
}

TEST(GoldenTest, OneTunnelNothingElse) {
  Policy p;
  p.tunnels = {"wg0"};
  ExpectGolden("one-tunnel", RenderNft(BuildRuleset(p)));
}

TEST(GoldenTest, OurWireGuard) {
  Policy p;
  p.tunnels = {"nmks0"};
  p.endpoints = {Marked("203.0.113.1:51820"), Marked("[2001:db8::1]:51820")};
  p.connections = {"Office"};
  ExpectGolden("wireguard", RenderNft(BuildRuleset(p)));
}

TEST(GoldenTest, ForeignVpnWithLanAndIpv6) {
  Policy p;
  p.tunnels = {"tun0", "tun1"};
  p.endpoints = {Endpoint::Parse("203.0.113.10:1194/udp").value(),
                 Endpoint::Parse("203.0.113.11:443/tcp").value(),
                 Endpoint::Parse("[2001:db8::10]:1194/udp").value()};
  p.allow_lan = true;
  p.allow_cgnat = true;
  p.ipv6 = Ipv6Mode::kTunnel;
  ExpectGolden("openvpn-lan-ipv6", RenderNft(BuildRuleset(p)));
}

TEST(GoldenTest, LanWithIpv6Blocked) {
  Policy p;
  p.tunnels = {"wg0"};
  p.endpoints = {Marked("198.51.100.7:51820")};
  p.allow_lan = true;
  ExpectGolden("lan-ipv6-blocked", RenderNft(BuildRuleset(p)));
}

TEST(GoldenTest, BlockAll) { ExpectGolden("block-all", RenderNft(BuildBlockAllRuleset())); }

TEST(RenderTest, EveryRejectHasACounterAndAComment) {
  Policy p;
  p.tunnels = {"wg0"};
  p.allow_lan = true;
  Ruleset r = BuildRuleset(p);
  for (const RuleDef& rule : r.rules) {
    bool stops = rule.verdict != "accept";
    bool counted = std::any_of(rule.insns.begin(), rule.insns.end(),
                               [](const Insn& i) { return std::holds_alternative<Counter>(i); });
    EXPECT_EQ(stops, counted) << rule.match << " " << rule.verdict;
    EXPECT_EQ(stops, rule.stop != Stop::kNone) << rule.match << " " << rule.verdict;
  }
}

TEST(RenderTest, DnsIsRefusedBeforeTheLanIsAllowed) {
  Policy p;
  p.tunnels = {"wg0"};
  p.allow_lan = true;
  std::string text = RenderNft(BuildRuleset(p));
  size_t dns = text.find("udp dport 53");
  size_t lan = text.find("ip daddr 192.168.0.0/16 accept");
  ASSERT_NE(dns, std::string::npos);
  ASSERT_NE(lan, std::string::npos);
  EXPECT_LT(dns, lan);
}

TEST(RenderTest, SquashWhitespace) { EXPECT_EQ(SquashWhitespace("a\n\t\tb  c\n"), "a b c"); }

}  // namespace
}  // namespace nmks
