#include "rules/table_compare.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/i18n.h"
#include "rules/table_codec.h"

namespace nmks {
namespace {

void ZeroCounters(std::vector<Insn>& insns) {
  for (Insn& insn : insns) {
    if (auto* c = std::get_if<Counter>(&insn)) *c = Counter{};
  }
}

// Whether two lists hold the same keys, in any order, by sorting pointers
// to them.
bool SameElementsSorted(const std::vector<Bytes>& a, const std::vector<Bytes>& b) {
  auto sorted = [](const std::vector<Bytes>& v) {
    std::vector<const Bytes*> out;
    out.reserve(v.size());
    for (const Bytes& k : v) out.push_back(&k);
    auto less = [](const Bytes* x, const Bytes* y) { return *x < *y; };
    if (!std::is_sorted(out.begin(), out.end(), less)) std::sort(out.begin(), out.end(), less);
    return out;
  };
  std::vector<const Bytes*> x = sorted(a), y = sorted(b);
  for (size_t i = 0; i < x.size(); ++i)
    if (*x[i] != *y[i]) return false;
  return true;
}

// Whether two lists hold the same keys, in any order; a key twice in
// either list is a difference (a set holds each key once; a dump that
// overlaps a change can repeat one). Through a hash table of indices into
// `b`, so a set of 100,000 keys is neither copied nor sorted (sorting was
// most of the comparison's time). Keys chosen to collide cannot make it
// slow: a long probe falls back to sorting.
bool SameElements(const std::vector<Bytes>& a, const std::vector<Bytes>& b) {
  if (a.size() != b.size()) return false;
  if (b.empty()) return true;
  size_t capacity = 16;
  while (capacity < 2 * b.size()) capacity *= 2;
  const size_t mask = capacity - 1;
  constexpr uint32_t kEmpty = UINT32_MAX;
  constexpr size_t kLongProbe = 64;
  std::vector<uint32_t> slots(capacity, kEmpty);
  std::vector<bool> matched(b.size(), false);
  auto hash = [](const Bytes& k) {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
  };
  for (size_t i = 0; i < b.size(); ++i) {
    size_t at = hash(b[i]) & mask;
    for (size_t probe = 0; slots[at] != kEmpty; at = (at + 1) & mask, ++probe) {
      if (b[slots[at]] == b[i]) return false;
      if (probe == kLongProbe) return SameElementsSorted(a, b);
    }
    slots[at] = static_cast<uint32_t>(i);
  }
  for (const Bytes& k : a) {
    size_t at = hash(k) & mask;
    for (size_t probe = 0;; at = (at + 1) & mask, ++probe) {
      if (slots[at] == kEmpty) return false;
      if (b[slots[at]] == k) break;
      if (probe == kLongProbe) return SameElementsSorted(a, b);
    }
    if (matched[slots[at]]) return false;
    matched[slots[at]] = true;
  }
  return true;
}

std::string DescribeRule(const RuleDef& rule) {
  std::string out;
  for (const Insn& i : rule.insns) {
    if (!out.empty()) out += "; ";
    out += Describe(i);
  }
  return out;
}

Status CompareSets(const Ruleset& meant, const Ruleset& k) {
  if (k.sets.size() != meant.sets.size()) {
    return Status::Error(Format(_("the kernel's table has %zu sets instead of %zu"), k.sets.size(),
                                meant.sets.size()));
  }
  for (const SetDef& want : meant.sets) {
    auto it = std::find_if(k.sets.begin(), k.sets.end(),
                           [&](const SetDef& s) { return s.name == want.name; });
    if (it == k.sets.end()) {
      return Status::Error(
          Format(_("set %s is missing from the kernel's table"), want.name.c_str()));
    }
    if (it->key_type != want.key_type || it->key_len != want.key_len || it->flags != want.flags ||
        it->userdata != want.userdata) {
      return Status::Error(
          Format(_("set %s has another type in the kernel's table"), want.name.c_str()));
    }
    if (!SameElements(it->elements, want.elements)) {
      return Status::Error(Format(_("set %s holds %zu elements in the kernel, %zu meant"),
                                  want.name.c_str(), it->elements.size(), want.elements.size()));
    }
  }
  return Status::Ok();
}

Status CompareChains(const Ruleset& meant, const Ruleset& k) {
  if (k.chains.size() != meant.chains.size()) {
    return Status::Error(Format(_("the kernel's table has %zu chains instead of %zu"),
                                k.chains.size(), meant.chains.size()));
  }
  for (const ChainDef& want : meant.chains) {
    auto it = std::find_if(k.chains.begin(), k.chains.end(),
                           [&](const ChainDef& c) { return c.name == want.name; });
    if (it == k.chains.end()) {
      return Status::Error(
          Format(_("chain %s is missing from the kernel's table"), want.name.c_str()));
    }
    if (it->hook != want.hook || it->priority != want.priority || it->type != want.type ||
        it->policy != want.policy) {
      return Status::Error(Format(_("chain %s has another hook, priority or policy in the kernel"),
                                  want.name.c_str()));
    }
    std::vector<const RuleDef*> got, exp;
    for (const RuleDef& r : k.rules)
      if (r.chain == want.name) got.push_back(&r);
    for (const RuleDef& r : meant.rules)
      if (r.chain == want.name) exp.push_back(&r);
    if (got.size() != exp.size()) {
      return Status::Error(Format(_("chain %s has %zu rules in the kernel, %zu meant"),
                                  want.name.c_str(), got.size(), exp.size()));
    }
    for (size_t i = 0; i < got.size(); ++i) {
      RuleDef g = *got[i], e = *exp[i];
      ZeroCounters(g.insns);
      ZeroCounters(e.insns);
      if (g.insns != e.insns || g.stop != e.stop) {
        return Status::Error(
            Format(_("rule %zu of chain %s differs in the kernel: [%s], meant [%s]"), i + 1,
                   want.name.c_str(), DescribeRule(g).c_str(), DescribeRule(e).c_str()));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Ruleset WithoutCounts(Ruleset ruleset) {
  for (RuleDef& rule : ruleset.rules) ZeroCounters(rule.insns);
  return ruleset;
}

Status CompareTableItself(const TableState& kernel) {
  if (!kernel.exists) return Status::Error(_("the kill-switch table is not in the kernel"));
  // Which ownership flags are right depends on the writer (TableWriter::Check);
  // any other flag, or data the kill switch never writes, is a difference.
  if (kernel.flags & kTableFlagDormant) {
    return Status::Error(_("the kernel's table is dormant: its chains filter nothing"));
  }
  if ((kernel.flags & ~(kTableFlagOwner | kTableFlagPersist)) != 0) {
    return Status::Error(Format(_("the kernel's table has flags 0x%x, which the kill switch never "
                                  "sets"),
                                kernel.flags));
  }
  if (!kernel.userdata.empty()) {
    return Status::Error(
        _("the kernel's table carries data (a comment) that the kill switch did not write"));
  }
  return Status::Ok();
}

Status CompareTable(const Ruleset& meant, const TableState& kernel) {
  if (Status st = CompareTableItself(kernel); !st.ok()) return st;
  if (Status st = CompareSets(meant, kernel.ruleset); !st.ok()) return st;
  return CompareChains(meant, kernel.ruleset);
}

}  // namespace nmks
