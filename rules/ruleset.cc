#include "rules/ruleset.h"

// glibc's headers before the kernel's, so linux/libc-compat.h sees them.
#include <netinet/icmp6.h>
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "base/i18n.h"

namespace nmks {
namespace {

constexpr uint32_t kReg1 = NFT_REG_1;
// In a concatenation the first key goes to reg 1, the next ones to the
// 32-bit registers after the words the earlier keys fill, as nft does.
constexpr uint32_t kReg32 = NFT_REG32_00;

// nftables datatype ids (nftables' include/datatype.h) and the way nft
// encodes a concatenation's type: 6 bits per member.
constexpr uint32_t kTypeIpv4 = 7, kTypeIpv6 = 8, kTypeInetProto = 12, kTypeInetService = 13,
                   kTypeMark = 19, kTypeIfname = 41;

// The set userdata nft 1.0.6 writes for these key types (libnftnl udata TLVs:
// key byte order; for concatenations also the typeof hint).
const Bytes kHostOrderUserdata = {0x00, 0x04, 0x01, 0x00, 0x00, 0x00};
const Bytes kConcatUserdata = {0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08,
                               0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00};

Bytes U8(uint8_t v) { return {v}; }
Bytes HostU32(uint32_t v) {
  Bytes b(4);
  std::memcpy(b.data(), &v, 4);
  return b;
}
Bytes Be16(uint16_t v) { return {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v & 0xff)}; }
Bytes IfName(const std::string& name) {
  Bytes b(16, 0);
  std::memcpy(b.data(), name.data(), std::min<size_t>(name.size(), 15));
  return b;
}
void Append(Bytes& to, const Bytes& from) { to.insert(to.end(), from.begin(), from.end()); }

std::string MarkText(uint32_t mark) { return Format("0x%08x", mark); }

// A dependency nft adds in front of a match in an inet table, emitted once
// per rule.
enum class Dep : uint8_t { kIpv4, kIpv6, kUdp, kTcp, kIcmpv6 };

std::vector<Insn> DepInsns(Dep dep) {
  switch (dep) {
    case Dep::kIpv4:
      return {MetaLoad{NFT_META_NFPROTO, kReg1}, Cmp{kReg1, NFT_CMP_EQ, U8(NFPROTO_IPV4)}};
    case Dep::kIpv6:
      return {MetaLoad{NFT_META_NFPROTO, kReg1}, Cmp{kReg1, NFT_CMP_EQ, U8(NFPROTO_IPV6)}};
    case Dep::kUdp:
      return {MetaLoad{NFT_META_L4PROTO, kReg1}, Cmp{kReg1, NFT_CMP_EQ, U8(IPPROTO_UDP)}};
    case Dep::kTcp:
      return {MetaLoad{NFT_META_L4PROTO, kReg1}, Cmp{kReg1, NFT_CMP_EQ, U8(IPPROTO_TCP)}};
    case Dep::kIcmpv6:
      return {MetaLoad{NFT_META_L4PROTO, kReg1}, Cmp{kReg1, NFT_CMP_EQ, U8(IPPROTO_ICMPV6)}};
  }
  return {};
}

// One match of a rule: its text, its bytecode, the dependencies it needs
// and the ones it provides itself (an explicit `meta nfproto ipv4`).
struct Term {
  std::vector<Dep> needs;
  std::string text;
  std::vector<Insn> insns;
  std::vector<Dep> provides;
};

class RuleBuilder {
 public:
  explicit RuleBuilder(std::string chain) { rule_.chain = std::move(chain); }

  RuleBuilder& Match(const Term& term) {
    for (Dep d : term.needs) {
      if (have_.insert(d).second) {
        auto insns = DepInsns(d);
        rule_.insns.insert(rule_.insns.end(), insns.begin(), insns.end());
      }
    }
    for (Dep d : term.provides) have_.insert(d);
    rule_.insns.insert(rule_.insns.end(), term.insns.begin(), term.insns.end());
    if (!rule_.match.empty()) rule_.match += ' ';
    rule_.match += term.text;
    return *this;
  }

  RuleDef Accept() { return Finish(Verdict{NF_ACCEPT}, "accept", Stop::kNone, false); }
  RuleDef CountedDrop(Stop stop) { return Finish(Verdict{NF_DROP}, "drop", stop, true); }
  RuleDef CountedReject(Stop stop) {
    return Finish(Reject{NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_ADMIN_PROHIBITED},
                  "reject with icmpx admin-prohibited", stop, true);
  }
  // Only after a term that needs or provides Dep::kTcp.
  RuleDef CountedReset(Stop stop) {
    return Finish(Reject{NFT_REJECT_TCP_RST, 0}, "reject with tcp reset", stop, true);
  }

 private:
  RuleDef Finish(Insn verdict, const char* text, Stop stop, bool counted) {
    if (counted) rule_.insns.push_back(Counter{});
    rule_.insns.push_back(std::move(verdict));
    rule_.verdict = text;
    rule_.stop = stop;
    return std::move(rule_);
  }
  RuleDef rule_;
  std::set<Dep> have_;
};

Term Nfproto(Address::Family f) {
  bool v4 = f == Address::Family::kIpv4;
  return {{},
          v4 ? "meta nfproto ipv4" : "meta nfproto ipv6",
          DepInsns(v4 ? Dep::kIpv4 : Dep::kIpv6),
          {v4 ? Dep::kIpv4 : Dep::kIpv6}};
}
Term L4Tcp() { return {{}, "meta l4proto tcp", DepInsns(Dep::kTcp), {Dep::kTcp}}; }

Term IfnameIs(bool out, const std::string& name) {
  return {{},
          std::string(out ? "oifname" : "iifname") + " \"" + name + "\"",
          {MetaLoad{out ? NFT_META_OIFNAME : NFT_META_IIFNAME, kReg1},
           Cmp{kReg1, NFT_CMP_EQ, IfName(name)}},
          {}};
}
Term IfnameInSet(bool out, const std::string& set) {
  return {{},
          std::string(out ? "oifname" : "iifname") + " @" + set,
          {MetaLoad{out ? NFT_META_OIFNAME : NFT_META_IIFNAME, kReg1}, Lookup{kReg1, set}},
          {}};
}
Term MarkInSet(const std::string& set) {
  return {{}, "meta mark @" + set, {MetaLoad{NFT_META_MARK, kReg1}, Lookup{kReg1, set}}, {}};
}

// `udp sport S udp dport D`: nft merges the two adjacent fields into one load.
Term UdpPorts(uint16_t sport, uint16_t dport) {
  Bytes both = Be16(sport);
  Append(both, Be16(dport));
  return {{Dep::kUdp},
          Format("udp sport %u udp dport %u", sport, dport),
          {PayloadLoad{NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4, kReg1}, Cmp{kReg1, NFT_CMP_EQ, both}},
          {}};
}
Term Dport(Protocol p, uint16_t port) {
  bool tcp = p == Protocol::kTcp;
  return {
      {tcp ? Dep::kTcp : Dep::kUdp},
      Format("%s dport %u", tcp ? "tcp" : "udp", port),
      {PayloadLoad{NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, kReg1}, Cmp{kReg1, NFT_CMP_EQ, Be16(port)}},
      {}};
}
// `meta skuid 0`: sent from a socket root owns.
Term FromRootSocket() {
  return {{},
          "meta skuid 0",
          {MetaLoad{NFT_META_SKUID, kReg1}, Cmp{kReg1, NFT_CMP_EQ, HostU32(0)}},
          {}};
}
Term Icmpv6Type(uint8_t type, const char* name) {
  return {
      {Dep::kIpv6, Dep::kIcmpv6},
      std::string("icmpv6 type ") + name,
      {PayloadLoad{NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, kReg1}, Cmp{kReg1, NFT_CMP_EQ, U8(type)}},
      {}};
}
Term Hoplimit(uint8_t value) {
  return {{Dep::kIpv6},
          Format("ip6 hoplimit %u", value),
          {PayloadLoad{NFT_PAYLOAD_NETWORK_HEADER, 7, 1, kReg1}, Cmp{kReg1, NFT_CMP_EQ, U8(value)}},
          {}};
}

// `ip daddr 10.0.0.0/8` and friends. Like nft: a byte-aligned prefix loads
// only its bytes; any other prefix loads the address and masks it.
Term AddressIn(bool source, const std::string& cidr) {
  size_t slash = cidr.find('/');
  Address a = Address::Parse(cidr.substr(0, slash)).value();
  bool v4 = a.family == Address::Family::kIpv4;
  uint32_t size = static_cast<uint32_t>(a.size());
  uint32_t prefix = slash == std::string::npos ? size * 8 : std::stoul(cidr.substr(slash + 1));
  uint32_t offset = v4 ? (source ? 12 : 16) : (source ? 8 : 24);
  Bytes addr(a.bytes.begin(), a.bytes.begin() + size);
  Term t{{v4 ? Dep::kIpv4 : Dep::kIpv6},
         std::string(v4 ? "ip " : "ip6 ") + (source ? "saddr " : "daddr ") + cidr,
         {},
         {}};
  if (prefix % 8 == 0) {
    uint32_t len = prefix / 8;
    t.insns = {PayloadLoad{NFT_PAYLOAD_NETWORK_HEADER, offset, len, kReg1},
               Cmp{kReg1, NFT_CMP_EQ, Bytes(addr.begin(), addr.begin() + len)}};
  } else {
    Bytes mask(size, 0);
    for (uint32_t bit = 0; bit < prefix; ++bit)
      mask[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
    t.insns = {PayloadLoad{NFT_PAYLOAD_NETWORK_HEADER, offset, size, kReg1},
               Bitwise{kReg1, kReg1, size, mask, Bytes(size, 0)}, Cmp{kReg1, NFT_CMP_EQ, addr}};
  }
  return t;
}

// `[meta mark .] ip daddr . meta l4proto . th dport @set`: one set lookup
// decides every endpoint at once, however many there are.
Term EndpointLookup(Address::Family f, bool source, bool marked, const std::string& set) {
  bool v4 = f == Address::Family::kIpv4;
  uint32_t addr_len = v4 ? 4 : 16;
  uint32_t addr_off = v4 ? (source ? 12 : 16) : (source ? 8 : 24);
  std::vector<Insn> insns;
  uint32_t word = 0;  // next free 32-bit word of the key
  auto reg = [&](uint32_t len) {
    // The kernel reports a 32-bit register that starts a 128-bit one by the
    // 128-bit name (reg 12 is reg 2), so write it that way too.
    uint32_t r = word % 4 == 0 ? kReg1 + word / 4 : kReg32 + word;
    word += (len + 3) / 4;
    return r;
  };
  std::string text;
  if (marked) {
    insns.push_back(MetaLoad{NFT_META_MARK, reg(4)});
    text += "meta mark . ";
  }
  insns.push_back(PayloadLoad{NFT_PAYLOAD_NETWORK_HEADER, addr_off, addr_len, reg(addr_len)});
  insns.push_back(MetaLoad{NFT_META_L4PROTO, reg(1)});
  insns.push_back(PayloadLoad{NFT_PAYLOAD_TRANSPORT_HEADER, source ? 0u : 2u, 2, reg(2)});
  insns.push_back(Lookup{kReg1, set});
  text += std::string(v4 ? "ip " : "ip6 ") + (source ? "saddr" : "daddr") +
          " . meta l4proto . th " + (source ? "sport" : "dport") + " @" + set;
  return {{v4 ? Dep::kIpv4 : Dep::kIpv6}, text, insns, {}};
}

// `ct state established,related`: replies to what the table let out, and
// ICMP errors about it (Packet Too Big). Using conntrack also makes the
// kernel reassemble IPv6 fragments before the input hook, so fragmented
// replies from an endpoint match like whole ones.
Term EstablishedOrRelated() {
  return {{},
          "ct state established,related",
          {CtLoad{NFT_CT_STATE, kReg1},
           Bitwise{kReg1, kReg1, 4,
                   HostU32(NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED)),
                   HostU32(0)},
           Cmp{kReg1, NFT_CMP_NEQ, HostU32(0)}},
          {}};
}

// Drops what is addressed to an address the arrival interface does not
// have, e.g. the tunnel's address arriving on the Wi-Fi (CVE-2019-14899).
Term NotAddressedToArrivalInterface() {
  constexpr uint32_t kFlags = NFTA_FIB_F_DADDR | NFTA_FIB_F_IIF;
  std::vector<Insn> insns;
  for (uint32_t type : {RTN_LOCAL, RTN_BROADCAST, RTN_MULTICAST}) {
    insns.push_back(Fib{kFlags, NFT_FIB_RESULT_ADDRTYPE, kReg1});
    insns.push_back(Cmp{kReg1, NFT_CMP_NEQ, HostU32(type)});
  }
  return {{},
          "fib daddr . iif type != local fib daddr . iif type != broadcast "
          "fib daddr . iif type != multicast",
          insns,
          {}};
}

SetDef MakeSet(std::string name, SetKind kind, uint32_t key_type, uint32_t key_len,
               const Bytes& userdata, std::string type_text) {
  SetDef s;
  s.name = std::move(name);
  s.kind = kind;
  s.key_type = key_type;
  s.key_len = key_len;
  s.userdata = userdata;
  s.type_text = std::move(type_text);
  return s;
}

// `sorted`: whether `endpoints` are in order (as Normalize leaves them).
SetDef EndpointSet(const std::string& name, Address::Family f, bool marked,
                   const std::vector<Endpoint>& endpoints, bool sorted,
                   bool (*keep)(const Endpoint&)) {
  bool v4 = f == Address::Family::kIpv4;
  std::vector<uint32_t> types;
  if (marked) types.push_back(kTypeMark);
  types.insert(types.end(), {v4 ? kTypeIpv4 : kTypeIpv6, kTypeInetProto, kTypeInetService});
  uint32_t len = (marked ? 4 : 0) + (v4 ? 4 : 16) + 4 + 4;
  std::string type_text = std::string(marked ? "mark . " : "") + (v4 ? "ipv4_addr" : "ipv6_addr") +
                          " . inet_proto . inet_service";
  uint32_t key = 0;
  for (uint32_t t : types) key = (key << 6) | t;
  SetDef s = MakeSet(name, v4 ? SetKind::kEndpoint4 : SetKind::kEndpoint6, key, len,
                     kConcatUserdata, type_text);
  s.marked = marked;
  // Two endpoints that differ only in their mark (the same server, marked
  // for one connection and unmarked or otherwise marked for another) give
  // the same key in the sets without marks; the kernel refuses a batch that
  // adds a key twice ("File exists"), so each key goes in once.
  // Normalized endpoints are sorted, so such keys come one after another;
  // others are checked against every key so far.
  std::set<Bytes> seen;
  s.elements.reserve(static_cast<size_t>(
      std::count_if(endpoints.begin(), endpoints.end(),
                    [f, keep](const Endpoint& e) { return e.address.family == f && keep(e); })));
  for (const Endpoint& e : endpoints) {
    if (e.address.family != f || !keep(e)) continue;
    // [mark (host order)] . address . protocol (padded to 4) . port (network
    // order, padded to 4), written in place: 100,000 keys are built here.
    Bytes k(len, 0);
    uint8_t* p = k.data();
    if (marked) {
      const uint32_t mark = *e.mark;
      std::memcpy(p, &mark, 4);
      p += 4;
    }
    std::memcpy(p, e.address.bytes.data(), e.address.size());
    p += e.address.size();
    p[0] = static_cast<uint8_t>(e.protocol);
    p[4] = static_cast<uint8_t>(e.port >> 8);
    p[5] = static_cast<uint8_t>(e.port & 0xff);
    const bool repeated =
        sorted ? !s.elements.empty() && s.elements.back() == k : !seen.insert(k).second;
    if (!repeated) s.elements.push_back(std::move(k));
  }
  return s;
}

// Removes from `from` the keys `in` holds. `from` is short (marked
// endpoints), `in` may hold 100,000 keys: sorted when built from a
// normalized policy, so each key is a binary search.
void DropKeysIn(const SetDef& in, SetDef& from) {
  if (from.elements.empty() || in.elements.empty()) return;
  if (std::is_sorted(in.elements.begin(), in.elements.end())) {
    std::erase_if(from.elements, [&in](const Bytes& k) {
      return std::binary_search(in.elements.begin(), in.elements.end(), k);
    });
    return;
  }
  const std::set<Bytes> keys(in.elements.begin(), in.elements.end());
  std::erase_if(from.elements, [&keys](const Bytes& k) { return keys.count(k) != 0; });
}

const char* const kLan4[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"};
const char* const kCgnat4 = "100.64.0.0/10";
const char* const kMulticast4[] = {"224.0.0.0/4", "255.255.255.255"};
const char* const kLan6[] = {"fe80::/10", "fc00::/7"};
const char* const kMulticast6 = "ff00::/8";

}  // namespace

void ClassifySet(SetDef& set) {
  std::vector<uint32_t> parts;  // a concatenation's member types, 6 bits each
  for (uint32_t t = set.key_type; t != 0; t >>= 6) parts.insert(parts.begin(), t & 63);
  set.marked = parts.size() == 4 && parts[0] == kTypeMark;
  if (set.key_type == kTypeIfname) {
    set.kind = SetKind::kIfname;
  } else if (set.key_type == kTypeMark) {
    set.kind = SetKind::kMark;
  } else if (std::find(parts.begin(), parts.end(), kTypeIpv6) != parts.end()) {
    set.kind = SetKind::kEndpoint6;
  } else {
    set.kind = SetKind::kEndpoint4;
  }
}

bool DecodeEndpointKey(const SetDef& set, const Bytes& k, Endpoint* out) {
  if (set.kind != SetKind::kEndpoint4 && set.kind != SetKind::kEndpoint6) return false;
  const bool v4 = set.kind == SetKind::kEndpoint4;
  const size_t addr_len = v4 ? 4 : 16;
  if (k.size() != (set.marked ? 4 : 0) + addr_len + 8) return false;
  size_t at = 0;
  Endpoint e;
  if (set.marked) {
    uint32_t mark = 0;
    std::memcpy(&mark, k.data(), 4);
    e.mark = mark;
    at = 4;
  }
  e.address.family = v4 ? Address::Family::kIpv4 : Address::Family::kIpv6;
  std::copy(k.begin() + static_cast<long>(at), k.begin() + static_cast<long>(at + addr_len),
            e.address.bytes.begin());
  at += addr_len;
  e.protocol = k[at] == static_cast<uint8_t>(Protocol::kTcp) ? Protocol::kTcp : Protocol::kUdp;
  e.port = static_cast<uint16_t>((k[at + 4] << 8) | k[at + 5]);
  *out = e;
  return true;
}

std::string ElementText(const SetDef& set, const Bytes& key) {
  switch (set.kind) {
    case SetKind::kIfname:
      return "\"" + std::string(key.begin(), std::find(key.begin(), key.end(), 0)) + "\"";
    case SetKind::kMark: {
      uint32_t m = 0;
      if (key.size() == 4) std::memcpy(&m, key.data(), 4);
      return MarkText(m);
    }
    case SetKind::kEndpoint4:
    case SetKind::kEndpoint6: {
      Endpoint e;
      if (!DecodeEndpointKey(set, key, &e)) return "?";
      std::string text = e.mark ? MarkText(*e.mark) + " . " : "";
      return text + e.address.ToString() + " . " + ProtocolName(e.protocol) + " . " +
             std::to_string(e.port);
    }
  }
  return "?";
}

const char* StopComment(Stop stop) {
  switch (stop) {
    case Stop::kNone:
      return "";
    case Stop::kLoop:
      return "loop";
    case Stop::kIpv6:
      return "ipv6";
    case Stop::kDns:
      return "dns";
    case Stop::kSpoofed:
      return "spoofed";
    case Stop::kBlocked:
      return "blocked";
    case Stop::kInbound:
      return "inbound";
    case Stop::kForwarded:
      return "forwarded";
  }
  return "";
}

Stop StopFromComment(const std::string& comment) {
  for (Stop s : {Stop::kLoop, Stop::kIpv6, Stop::kDns, Stop::kSpoofed, Stop::kBlocked,
                 Stop::kInbound, Stop::kForwarded}) {
    if (comment == StopComment(s)) return s;
  }
  return Stop::kNone;
}

const char* StopDescription(Stop stop) {
  switch (stop) {
    case Stop::kNone:
      return "";
    case Stop::kLoop:
      return _("tunnel packets routed back into a tunnel");
    case Stop::kIpv6:
      return _("IPv6 while the tunnel carries none");
    case Stop::kDns:
      return _("DNS queries outside the tunnel");
    case Stop::kSpoofed:
      return _("packets addressed to another interface (CVE-2019-14899)");
    case Stop::kBlocked:
      return _("outgoing packets outside the tunnel");
    case Stop::kInbound:
      return _("incoming packets outside the tunnel");
    case Stop::kForwarded:
      return _("forwarded packets outside the tunnel");
  }
  return "";
}

Bytes CommentUserdata(const std::string& comment) {
  // libnftnl udata: type NFTNL_UDATA_RULE_COMMENT (0), length, text with NUL.
  Bytes b;
  b.reserve(comment.size() + 3);
  b.push_back(0x00);
  b.push_back(static_cast<uint8_t>(comment.size() + 1));
  for (char c : comment) b.push_back(static_cast<uint8_t>(c));
  b.push_back(0);
  return b;
}

std::string CommentFromUserdata(const Bytes& userdata) {
  size_t i = 0;
  while (i + 2 <= userdata.size()) {
    uint8_t type = userdata[i], len = userdata[i + 1];
    if (i + 2 + len > userdata.size()) break;
    if (type == 0 && len > 0 && userdata[i + 2 + len - 1] == 0) {
      return std::string(reinterpret_cast<const char*>(&userdata[i + 2]), len - 1);
    }
    i += 2 + len;
  }
  return "";
}

namespace {

using F = Address::Family;

void Add(Ruleset& r, RuleDef rule) { r.rules.push_back(std::move(rule)); }

// Neighbour discovery messages of these types (hop limit 255: from the link).
void NeighbourDiscovery(Ruleset& r, const std::string& chain,
                        std::initializer_list<std::pair<uint8_t, const char*>> types) {
  for (auto [type, name] : types)
    Add(r, RuleBuilder(chain).Match(Icmpv6Type(type, name)).Match(Hoplimit(255)).Accept());
}

std::vector<SetDef> Sets(const Policy& policy) {
  SetDef tunnels =
      MakeSet("tunnels", SetKind::kIfname, kTypeIfname, 16, kHostOrderUserdata, "ifname");
  for (const auto& t : policy.tunnels) tunnels.elements.push_back(IfName(t));
  SetDef marks = MakeSet("marks", SetKind::kMark, kTypeMark, 4, kHostOrderUserdata, "mark");
  std::set<uint32_t> mark_values;
  for (const auto& e : policy.endpoints)
    if (e.mark) mark_values.insert(*e.mark);
  for (uint32_t m : mark_values) marks.elements.push_back(HostU32(m));
  auto unmarked = [](const Endpoint& e) { return !e.mark.has_value(); };
  auto marked = [](const Endpoint& e) { return e.mark.has_value(); };
  const bool sorted = std::is_sorted(policy.endpoints.begin(), policy.endpoints.end());
  // Each endpoint's tuple is in the table once where it can be: the unmarked
  // sets serve both `output` (daddr . dport) and `input` (saddr . sport).
  // Replies to marked endpoints arrive without the mark, so `input` finds
  // those in the marked_in sets (minus the tuples unmarked already holds).
  SetDef unmarked4 = EndpointSet("unmarked4", F::kIpv4, false, policy.endpoints, sorted, unmarked);
  SetDef unmarked6 = EndpointSet("unmarked6", F::kIpv6, false, policy.endpoints, sorted, unmarked);
  SetDef marked_in4 = EndpointSet("marked_in4", F::kIpv4, false, policy.endpoints, sorted, marked);
  SetDef marked_in6 = EndpointSet("marked_in6", F::kIpv6, false, policy.endpoints, sorted, marked);
  DropKeysIn(unmarked4, marked_in4);
  DropKeysIn(unmarked6, marked_in6);
  // Moved in one by one: a braced list would copy every key of every set.
  std::vector<SetDef> sets;
  sets.reserve(8);
  sets.push_back(std::move(tunnels));
  sets.push_back(std::move(marks));
  sets.push_back(std::move(unmarked4));
  sets.push_back(std::move(unmarked6));
  sets.push_back(EndpointSet("marked4", F::kIpv4, true, policy.endpoints, sorted, marked));
  sets.push_back(EndpointSet("marked6", F::kIpv6, true, policy.endpoints, sorted, marked));
  sets.push_back(std::move(marked_in4));
  sets.push_back(std::move(marked_in6));
  return sets;
}

void InputRules(const Policy& policy, Ruleset& r) {
  const bool block6 = policy.ipv6 == Ipv6Mode::kBlock;
  // input: loopback, tunnels, neighbour discovery; then nothing addressed to
  // another interface; then DHCP, replies to what went out, the endpoints
  // and (maybe) the LAN.
  Add(r, RuleBuilder("input").Match(IfnameIs(false, "lo")).Accept());
  Add(r, RuleBuilder("input").Match(IfnameInSet(false, "tunnels")).Accept());
  NeighbourDiscovery(r, "input",
                     {{ND_ROUTER_ADVERT, "nd-router-advert"},
                      {ND_NEIGHBOR_SOLICIT, "nd-neighbor-solicit"},
                      {ND_NEIGHBOR_ADVERT, "nd-neighbor-advert"}});
  Add(r, RuleBuilder("input").Match(NotAddressedToArrivalInterface()).CountedDrop(Stop::kSpoofed));
  Add(r, RuleBuilder("input").Match(Nfproto(F::kIpv4)).Match(UdpPorts(67, 68)).Accept());
  Add(r,
      RuleBuilder("input").Match(AddressIn(true, "fe80::/10")).Match(UdpPorts(547, 546)).Accept());
  Add(r, RuleBuilder("input").Match(EstablishedOrRelated()).Accept());
  Add(r, RuleBuilder("input").Match(EndpointLookup(F::kIpv4, true, false, "unmarked4")).Accept());
  Add(r, RuleBuilder("input").Match(EndpointLookup(F::kIpv6, true, false, "unmarked6")).Accept());
  Add(r, RuleBuilder("input").Match(EndpointLookup(F::kIpv4, true, false, "marked_in4")).Accept());
  Add(r, RuleBuilder("input").Match(EndpointLookup(F::kIpv6, true, false, "marked_in6")).Accept());
  if (policy.allow_lan) {
    for (const char* cidr : kLan4)
      Add(r, RuleBuilder("input").Match(AddressIn(true, cidr)).Accept());
    if (policy.allow_cgnat) Add(r, RuleBuilder("input").Match(AddressIn(true, kCgnat4)).Accept());
    if (!block6)
      for (const char* cidr : kLan6)
        Add(r, RuleBuilder("input").Match(AddressIn(true, cidr)).Accept());
  }
  Add(r, RuleBuilder("input").CountedDrop(Stop::kInbound));
}

void ForwardRules(const Policy& policy, Ruleset& r) {
  const bool block6 = policy.ipv6 == Ipv6Mode::kBlock;
  // forward: only into and out of the tunnels.
  if (block6) {
    Add(r, RuleBuilder("forward")
               .Match(Nfproto(F::kIpv6))
               .Match(IfnameInSet(true, "tunnels"))
               .CountedDrop(Stop::kIpv6));
  }
  Add(r, RuleBuilder("forward").Match(IfnameInSet(true, "tunnels")).Accept());
  // From a tunnel only replies: the VPN's side must not reach the LAN
  // through this host.
  Add(r, RuleBuilder("forward")
             .Match(IfnameInSet(false, "tunnels"))
             .Match(EstablishedOrRelated())
             .Accept());
  Add(r, RuleBuilder("forward").CountedDrop(Stop::kForwarded));
}

// output, first: loopback; our tunnel's own packets never into a tunnel;
// the tunnels; the endpoints.
void TunnelAndEndpointOutput(const Policy& policy, Ruleset& r) {
  const bool block6 = policy.ipv6 == Ipv6Mode::kBlock;
  Add(r, RuleBuilder("output").Match(IfnameIs(true, "lo")).Accept());
  Add(r, RuleBuilder("output")
             .Match(MarkInSet("marks"))
             .Match(IfnameInSet(true, "tunnels"))
             .CountedDrop(Stop::kLoop));
  if (block6) {
    Add(r, RuleBuilder("output")
               .Match(Nfproto(F::kIpv6))
               .Match(IfnameInSet(true, "tunnels"))
               .CountedReject(Stop::kIpv6));
  }
  Add(r, RuleBuilder("output").Match(IfnameInSet(true, "tunnels")).Accept());
  Add(r, RuleBuilder("output").Match(EndpointLookup(F::kIpv4, false, true, "marked4")).Accept());
  Add(r, RuleBuilder("output").Match(EndpointLookup(F::kIpv6, false, true, "marked6")).Accept());
  Add(r, RuleBuilder("output").Match(EndpointLookup(F::kIpv4, false, false, "unmarked4")).Accept());
  Add(r, RuleBuilder("output").Match(EndpointLookup(F::kIpv6, false, false, "unmarked6")).Accept());
}

// output: what keeps the link itself working (DHCP, neighbour discovery,
// multicast listener reports), and nothing beyond the link.
void LinkHousekeepingOutput(Ruleset& r) {
  // DHCP clients: to any address only from root's sockets (a lease is
  // renewed by unicast to the server; where ip_unprivileged_port_start is
  // 0 anyone could bind port 68 and reach any host on port 67), otherwise
  // only to the broadcast / the all-DHCP-servers multicast address, which
  // stay on the link.
  Add(r, RuleBuilder("output")
             .Match(Nfproto(F::kIpv4))
             .Match(UdpPorts(68, 67))
             .Match(FromRootSocket())
             .Accept());
  Add(r, RuleBuilder("output")
             .Match(AddressIn(false, "255.255.255.255"))
             .Match(UdpPorts(68, 67))
             .Accept());
  Add(r, RuleBuilder("output")
             .Match(AddressIn(true, "fe80::/10"))
             .Match(UdpPorts(546, 547))
             .Match(FromRootSocket())
             .Accept());
  Add(r, RuleBuilder("output")
             .Match(AddressIn(false, "ff02::1:2"))
             .Match(UdpPorts(546, 547))
             .Accept());
  NeighbourDiscovery(r, "output",
                     {{ND_ROUTER_SOLICIT, "nd-router-solicit"},
                      {ND_NEIGHBOR_SOLICIT, "nd-neighbor-solicit"},
                      {ND_NEIGHBOR_ADVERT, "nd-neighbor-advert"}});
  // Multicast listener reports, so switches that snoop them keep
  // forwarding neighbour discovery to us (link-local, hop limit 1).
  constexpr uint8_t kMld2ListenerReport = 143;  // RFC 3810; not in glibc's icmp6.h
  Add(r, RuleBuilder("output")
             .Match(Icmpv6Type(MLD_LISTENER_REPORT, "mld-listener-report"))
             .Match(Hoplimit(1))
             .Accept());
  Add(r, RuleBuilder("output")
             .Match(Icmpv6Type(kMld2ListenerReport, "mld2-listener-report"))
             .Match(Hoplimit(1))
             .Accept());
}

// output with the local network allowed: its private ranges and multicast.
void LanOutput(const Policy& policy, Ruleset& r) {
  if (!policy.allow_lan) return;
  const bool block6 = policy.ipv6 == Ipv6Mode::kBlock;
  for (const char* cidr : kLan4)
    Add(r, RuleBuilder("output").Match(AddressIn(false, cidr)).Accept());
  if (policy.allow_cgnat) Add(r, RuleBuilder("output").Match(AddressIn(false, kCgnat4)).Accept());
  for (const char* cidr : kMulticast4)
    Add(r, RuleBuilder("output").Match(AddressIn(false, cidr)).Accept());
  if (!block6) {
    for (const char* cidr : kLan6)
      Add(r, RuleBuilder("output").Match(AddressIn(false, cidr)).Accept());
    Add(r, RuleBuilder("output").Match(AddressIn(false, kMulticast6)).Accept());
  }
}

// output: loopback, tunnels, endpoints, link housekeeping; DNS refused
// before the LAN; everything else rejected and counted.
void OutputRules(const Policy& policy, Ruleset& r) {
  TunnelAndEndpointOutput(policy, r);
  LinkHousekeepingOutput(r);
  Add(r, RuleBuilder("output").Match(Dport(Protocol::kUdp, 53)).CountedReject(Stop::kDns));
  Add(r, RuleBuilder("output").Match(Dport(Protocol::kTcp, 53)).CountedReset(Stop::kDns));
  LanOutput(policy, r);
  Add(r, RuleBuilder("output").Match(L4Tcp()).CountedReset(Stop::kBlocked));
  Add(r, RuleBuilder("output").CountedReject(Stop::kBlocked));
}

}  // namespace

Ruleset BuildRuleset(const Policy& policy) {
  Ruleset r;
  r.sets = Sets(policy);
  r.chains = {{"input", NF_INET_LOCAL_IN, 0},
              {"forward", NF_INET_FORWARD, 0},
              {"output", NF_INET_LOCAL_OUT, 0}};
  InputRules(policy, r);
  ForwardRules(policy, r);
  OutputRules(policy, r);
  return r;
}

Ruleset BuildBlockAllRuleset() { return BuildRuleset(Policy{}); }

}  // namespace nmks
