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

void ReadEndpoints(const SetDef* set, Address::Family family, bool marked,
                   std::vector<Endpoint>& out) {
  if (set == nullptr) return;
  const size_t addr_len = family == Address::Family::kIpv4 ? 4 : 16;
  const size_t want = (marked ? 4 : 0) + addr_len + 8;
  for (const Bytes& k : set->elements) {
    if (k.size() != want) continue;
    size_t at = 0;
    Endpoint e;
    if (marked) {
      uint32_t mark = 0;
      std::memcpy(&mark, k.data(), 4);
      e.mark = mark;
      at = 4;
    }
    e.address.family = family;
    std::copy(k.begin() + at, k.begin() + at + addr_len, e.address.bytes.begin());
    at += addr_len;
    e.protocol = k[at] == static_cast<uint8_t>(Protocol::kTcp) ? Protocol::kTcp : Protocol::kUdp;
    e.port = static_cast<uint16_t>((k[at + 4] << 8) | k[at + 5]);
    out.push_back(e);
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
  ReadEndpoints(FindSet(kernel, "unmarked4"), Address::Family::kIpv4, false, p.endpoints);
  ReadEndpoints(FindSet(kernel, "unmarked6"), Address::Family::kIpv6, false, p.endpoints);
  ReadEndpoints(FindSet(kernel, "marked4"), Address::Family::kIpv4, true, p.endpoints);
  ReadEndpoints(FindSet(kernel, "marked6"), Address::Family::kIpv6, true, p.endpoints);
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
