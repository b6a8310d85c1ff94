// Fail closed: a ruleset the kernel refuses changes nothing; the table
// that was there stays, exactly, and keeps blocking. And the upper bound
// of the policy (100,000 endpoints) installs and reads back.
// glibc's headers before the kernel's, so linux/libc-compat.h sees them.
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "tests/world/world.h"

namespace nmks::world {
namespace {

class BadInputTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    good_ = TunnelOnly();
    good_.endpoints = {Marked("203.0.113.1:51820/udp")};
    ASSERT_TRUE(world().Install(good_).ok());
  }
  // A different, valid table to start each bad one from.
  static Ruleset Base() {
    Policy p = TunnelOnly("wg0");
    p.allow_lan = true;
    return BuildRuleset(p);
  }
  void ExpectRefusedAndUnchanged(const Ruleset& bad, const char* what) {
    SCOPED_TRACE(what);
    Status s = world().Install(bad);
    EXPECT_FALSE(s.ok()) << "the kernel took " << what;
    if (!s.ok()) std::printf("%s: %s\n", what, s.message().c_str());
    auto state = world().writer().Read();
    ASSERT_TRUE(state.ok()) << state.message();
    Status same = CompareTable(BuildRuleset(good_), state.value());
    EXPECT_TRUE(same.ok()) << same.message();
  }
  Policy good_;
};

TEST_F(BadInputTest, RuleWithAMissingSet) {
  Ruleset bad = Base();
  bad.rules.push_back(
      {"output",
       {MetaLoad{NFT_META_OIFNAME, NFT_REG_1}, Lookup{NFT_REG_1, "nope"}, Verdict{NF_ACCEPT}},
       "oifname @nope",
       "accept",
       Stop::kNone});
  ExpectRefusedAndUnchanged(bad, "a rule looking up a set that does not exist");
}

TEST_F(BadInputTest, SetElementOfTheWrongLength) {
  Ruleset bad = Base();
  bad.sets[0].elements.push_back(Bytes{1, 2, 3});
  ExpectRefusedAndUnchanged(bad, "an interface name of 3 bytes");
}

TEST_F(BadInputTest, RuleInAMissingChain) {
  Ruleset bad = Base();
  bad.rules.push_back({"prerouting", {Verdict{NF_ACCEPT}}, "", "accept", Stop::kNone});
  ExpectRefusedAndUnchanged(bad, "a rule in a chain that does not exist");
}

TEST_F(BadInputTest, RefusedTableKeepsBlocking) {
  Ruleset bad = Base();
  bad.rules.insert(bad.rules.begin(),
                   {"output", {Verdict{NF_ACCEPT}}, "", "accept", Stop::kNone});  // would open all
  bad.sets[1].elements.push_back(Bytes{1});  // but a mark of one byte spoils the batch
  ExpectRefusedAndUnchanged(bad, "an open table with one bad element");
  Tally tally(world().router, "ip daddr 203.0.113.99 udp dport 4800");
  EXPECT_EQ(Send(world().client, {.to = "203.0.113.99", .port = 4800, .count = 3}).error, EPERM);
  EXPECT_EQ(tally.Await(0), 0u);
}

// kMaxEndpoints endpoints, half of them marked: one batch, read back and
// compared element by element; one endpoint is reachable, its neighbour not.
TEST_F(BadInputTest, HundredThousandEndpoints) {
  Policy big = TunnelOnly();
  for (size_t i = 0; i < kMaxEndpoints; ++i) {
    Endpoint e;
    e.address = Address::Parse("203.0.113." + std::to_string(i % 250 + 1)).value();
    e.port = static_cast<uint16_t>(10000 + i / 250);
    if (i % 2 == 1) e.mark = kDefaultMark;
    big.endpoints.push_back(e);
  }
  ASSERT_TRUE(Validate(big).ok()) << Validate(big).message();
  Ruleset table = BuildRuleset(big);
  auto start = std::chrono::steady_clock::now();
  Status s = world().Install(table);
  double install = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(s.ok()) << s.message();
  start = std::chrono::steady_clock::now();
  auto state = world().writer().Read();
  double read = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(state.ok()) << state.message();
  EXPECT_TRUE(CompareTable(table, state.value()).ok());
  std::printf("%zu endpoints: install with read-back %.2f s, read %.2f s\n", kMaxEndpoints, install,
              read);

  // i = 0: 203.0.113.1:10000 unmarked; i = 250: 203.0.113.1:10001 unmarked.
  Tally in_set(world().router, "ip daddr 203.0.113.1 udp dport 10000");
  Tally not_in_set(world().router, "ip daddr 203.0.113.1 udp dport 10400");
  EXPECT_EQ(Send(world().client, {.to = "203.0.113.1", .port = 10000, .count = 2}).error, 0);
  EXPECT_EQ(Send(world().client, {.to = "203.0.113.1", .port = 10400, .count = 2}).error, EPERM);
  EXPECT_EQ(in_set.Await(2), 2u);
  EXPECT_EQ(not_in_set.Now(), 0u);
}

}  // namespace
}  // namespace nmks::world
