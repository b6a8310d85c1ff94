// Golden files: the whole table for representative policies, as `nft list
// table` prints it. A change to the table shows up as a diff of these files.
// NMKS_UPDATE_GOLDEN=1 rewrites them.
#include "rules/nft_text.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <variant>

#include "rules/policy.h"
#include "rules/ruleset.h"
#include "tests/golden_policies.h"

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

// One test for all of them: the policies live in tests/golden_policies.h,
// shared with the kernel test that loads each file with `nft -f`.
TEST(GoldenTest, EveryGoldenPolicy) {
  for (const GoldenPolicy& golden : GoldenPolicies()) {
    SCOPED_TRACE(golden.name);
    ExpectGolden(golden.name, RenderNft(golden.Build()));
  }
}

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

TEST(RenderTest, ShortensSetsWhenAsked) {
  Policy p;
  p.tunnels = {"wg0"};
  for (uint16_t port : {1, 2, 3}) {
    Endpoint e = Endpoint::Parse("203.0.113.1:1/udp").value();
    e.port = port;
    p.endpoints.push_back(e);
  }
  const Ruleset r = BuildRuleset(p);
  std::string whole = RenderNft(r);
  EXPECT_NE(whole.find("203.0.113.1 . udp . 3"), std::string::npos) << whole;
  EXPECT_NE(whole.find("size 3"), std::string::npos) << whole;
  std::string shown = RenderNft(r, 1);
  EXPECT_NE(shown.find("203.0.113.1 . udp . 1"), std::string::npos) << shown;
  EXPECT_EQ(shown.find("203.0.113.1 . udp . 3"), std::string::npos) << shown;
  EXPECT_NE(shown.find("# 2 more elements not shown"), std::string::npos) << shown;
  EXPECT_NE(shown.find("size 3"), std::string::npos) << shown;
}

TEST(RenderTest, SquashWhitespace) { EXPECT_EQ(SquashWhitespace("a\n\t\tb  c\n"), "a b c"); }

}  // namespace
}  // namespace nmks
