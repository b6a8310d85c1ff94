#include "rules/table_policy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "rules/table_writer.h"

namespace nmks {
namespace {

const SetDef* FindSet(const Ruleset& r, const char* name) {
  for (const SetDef& s : r.sets)
    if (s.name == name) return &s;
  return nullptr;
}

void ReadEndpoints(const SetDef* set, std::vector<Endpoint>& out) {
  if (set == nullptr) return;
  for (const Bytes& k : set->elements) {
    Endpoint e;
    if (DecodeEndpointKey(*set, k, &e)) out.push_back(e);
  }
}

}  // namespace

RecoveredPolicy RecoverPolicy(const Ruleset& kernel) {
  RecoveredPolicy out;
  Policy& p = out.policy;
  if (const SetDef* t = FindSet(kernel, "tunnels")) {
    for (const Bytes& k : t->elements) {
      std::string name(k.begin(), std::find(k.begin(), k.end(), 0));
      if (ValidateInterfaceName(name).ok()) p.tunnels.push_back(name);
    }
  }
  for (const char* name : {"unmarked4", "unmarked6", "marked4", "marked6"}) {
    ReadEndpoints(FindSet(kernel, name), p.endpoints);
  }
  Normalize(p);
  p.mode = Mode::kLockdown;

  TableState state;
  state.exists = true;
  state.ruleset = kernel;
  for (bool lan : {false, true}) {
    for (bool cgnat : {false, true}) {
      if (cgnat && !lan) continue;
      for (Ipv6Mode v6 : {Ipv6Mode::kBlock, Ipv6Mode::kTunnel}) {
        Policy candidate = p;
        candidate.allow_lan = lan;
        candidate.allow_cgnat = cgnat;
        candidate.ipv6 = v6;
        if (CompareTable(BuildRuleset(candidate), state).ok()) {
          out.policy = candidate;
          out.exact = true;
          return out;
        }
      }
    }
  }
  return out;
}

}  // namespace nmks
