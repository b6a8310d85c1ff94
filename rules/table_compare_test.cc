// CompareTable without a kernel: a TableState made from the ruleset itself
// stands for a perfect read-back, and each test spoils one thing a hostile
// or careless process could change.
#include "rules/table_compare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "rules/policy.h"
#include "rules/table_codec.h"

namespace nmks {
namespace {

using testing::HasSubstr;

Ruleset Meant() {
  Policy p;
  p.tunnels = {"wg0"};
  for (const char* a : {"203.0.113.1", "203.0.113.2", "2001:db8::1"}) {
    Endpoint e;
    e.address = Address::Parse(a).value();
    e.protocol = Protocol::kUdp;
    e.port = 51820;
    p.endpoints.push_back(e);
  }
  Normalize(p);
  return BuildRuleset(p);
}

// What a read-back of `meant` returns: the kernel's view, with the flags
// of an owned table and counters that have counted.
TableState ReadBack(const Ruleset& meant) {
  TableState k;
  k.exists = true;
  k.flags = kTableFlagOwner | kTableFlagPersist;
  k.ruleset = meant;
  for (RuleDef& r : k.ruleset.rules) {
    r.match.clear();
    r.verdict.clear();
    for (Insn& i : r.insns)
      if (auto* c = std::get_if<Counter>(&i)) *c = Counter{42, 4200};
  }
  return k;
}

TEST(CompareTableTest, TheSameTableMatchesWhateverItsCountersAndElementOrder) {
  const Ruleset meant = Meant();
  TableState k = ReadBack(meant);
  for (SetDef& s : k.ruleset.sets) std::reverse(s.elements.begin(), s.elements.end());
  EXPECT_TRUE(CompareTable(meant, k).ok()) << CompareTable(meant, k).message();
}

// 100,000 keys in the kernel's order (not ours): the same set, found
// without sorting; one key changed among them is found.
TEST(CompareTableTest, LargeSetsAreComparedKeyByKey) {
  Policy p;
  p.tunnels = {"wg0"};
  for (uint32_t i = 0; i < 100000; ++i) {
    Endpoint e;
    e.address = Address::Parse("203.0.113." + std::to_string(i % 250 + 1)).value();
    e.protocol = Protocol::kUdp;
    e.port = static_cast<uint16_t>(1024 + i / 250);
    p.endpoints.push_back(e);
  }
  Normalize(p);
  const Ruleset meant = BuildRuleset(p);
  TableState k = ReadBack(meant);
  for (SetDef& s : k.ruleset.sets) {
    for (size_t i = 0; i + 1 < s.elements.size(); i += 2)
      std::swap(s.elements[i], s.elements[i + 1]);
    std::reverse(s.elements.begin(), s.elements.end());
  }
  EXPECT_TRUE(CompareTable(meant, k).ok()) << CompareTable(meant, k).message();
  for (SetDef& s : k.ruleset.sets)
    if (s.elements.size() == 100000) s.elements[50000][0] ^= 0x80;
  EXPECT_THAT(CompareTable(meant, k).message(), HasSubstr("elements in the kernel"));
}

TEST(CompareTableTest, EveryChangeIsFound) {
  const Ruleset meant = Meant();
  struct Case {
    const char* what;
    void (*spoil)(TableState&);
    const char* said;
  };
  const Case cases[] = {
      {"gone", [](TableState& k) { k.exists = false; }, "not in the kernel"},
      {"dormant", [](TableState& k) { k.flags |= kTableFlagDormant; }, "dormant"},
      {"other flag", [](TableState& k) { k.flags |= 0x8; }, "flags 0x"},
      {"a comment", [](TableState& k) { k.userdata = {'x'}; }, "carries data"},
      {"an element gone",
       [](TableState& k) {
         for (SetDef& s : k.ruleset.sets)
           if (!s.elements.empty()) {
             s.elements.pop_back();
             return;
           }
       },
       "elements in the kernel"},
      {"an element replaced by another",
       [](TableState& k) {
         for (SetDef& s : k.ruleset.sets)
           if (!s.elements.empty()) {
             s.elements.back().back() ^= 1;
             return;
           }
       },
       "elements in the kernel"},
      {"an element read twice, another not at all",
       [](TableState& k) {
         for (SetDef& s : k.ruleset.sets)
           if (s.elements.size() >= 2) {
             s.elements.back() = s.elements.front();
             return;
           }
       },
       "elements in the kernel"},
      {"a set gone", [](TableState& k) { k.ruleset.sets.pop_back(); }, "sets instead of"},
      {"a chain's policy", [](TableState& k) { k.ruleset.chains.front().policy = 1; },
       "another hook, priority or policy"},
      {"a rule gone", [](TableState& k) { k.ruleset.rules.pop_back(); }, "rules in the kernel"},
      {"a rule changed", [](TableState& k) { k.ruleset.rules.front().insns.pop_back(); },
       "differs in the kernel"},
  };
  for (const Case& c : cases) {
    TableState k = ReadBack(meant);
    c.spoil(k);
    Status s = CompareTable(meant, k);
    EXPECT_FALSE(s.ok()) << c.what;
    EXPECT_THAT(s.message(), HasSubstr(c.said)) << c.what;
  }
}

TEST(CompareTableTest, WithoutCountsZeroesEveryCounter) {
  TableState k = ReadBack(Meant());
  Ruleset zeroed = WithoutCounts(k.ruleset);
  int counters = 0;
  for (const RuleDef& r : zeroed.rules) {
    for (const Insn& i : r.insns) {
      if (const auto* c = std::get_if<Counter>(&i)) {
        ++counters;
        EXPECT_EQ(c->packets, 0u);
        EXPECT_EQ(c->bytes, 0u);
      }
    }
  }
  EXPECT_GT(counters, 0);
}

}  // namespace
}  // namespace nmks
