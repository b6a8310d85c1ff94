// The kill-switch table for one (merged) Policy, exactly as DESIGN.md's
// contract describes it: sets, base chains and rules, each rule carrying both
// its nftables bytecode and the line `nft list table` prints for it. The
// netlink writer installs a Ruleset; the text renderer prints it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rules/insn.h"
#include "rules/policy.h"

namespace nmks {

inline constexpr char kTableName[] = "nm-killswitch";
// On kernels that cannot keep an owned table when its owner goes away, a
// second, unowned table with the same rules; a packet must pass both.
inline constexpr char kTwinTableName[] = "nm-killswitch-twin";
// Blocks with the new rules while the table is deleted and made again
// (only when its flags cannot change in place; see TableWriter::Install).
inline constexpr char kHandoverTableName[] = "nm-killswitch-handover";

// What a set's keys are, so they can be printed (and read) without
// keeping a text copy of every element.
enum class SetKind : uint8_t {
  kIfname,     // interface names, 16 bytes with NUL padding
  kMark,       // fwmarks, 4 bytes in host order
  kEndpoint4,  // [mark .] IPv4 address . protocol . port
  kEndpoint6,  // [mark .] IPv6 address . protocol . port
};

struct SetDef {
  std::string name;
  SetKind kind = SetKind::kIfname;
  bool marked = false;    // endpoint keys start with a mark
  uint32_t flags = 0;     // NFT_SET_*
  uint32_t key_type = 0;  // nftables datatype id; concatenations encoded as nft does
  uint32_t key_len = 0;
  Bytes userdata;         // what nft stores, so `nft list` prints the set natively
  std::string type_text;  // e.g. "ipv4_addr . inet_proto . inet_service"
  std::vector<Bytes> elements;
};

// Sets kind and marked of a set read from the kernel, from its key type.
void ClassifySet(SetDef& set);
// An element as nft prints it, e.g. "0x00006b73 . 203.0.113.1 . udp . 51820".
std::string ElementText(const SetDef& set, const Bytes& key);
// The endpoint in an endpoint set's key; false if the key has another shape.
bool DecodeEndpointKey(const SetDef& set, const Bytes& key, Endpoint* out);

struct ChainDef {
  std::string name;  // also the hook's name: input, forward, output
  uint32_t hook = 0;
  int32_t priority = 0;
  std::string type = "filter";
  uint32_t policy = 0;  // NF_DROP
};

// Why a counted rule stops packets. Kept in the rule's comment in the
// kernel, so `status` can read the counters back and say what they mean.
enum class Stop : uint8_t {
  kNone,
  kLoop,       // our tunnel's own packets routed into a tunnel
  kIpv6,       // IPv6 while the tunnel carries none
  kDns,        // DNS outside the tunnel
  kSpoofed,    // addressed to another interface's address (CVE-2019-14899)
  kBlocked,    // everything else leaving outside the tunnel
  kInbound,    // everything else arriving outside the tunnel
  kForwarded,  // traffic routed through this host outside the tunnel
};
const char* StopComment(Stop stop);  // the comment stored in the kernel
Stop StopFromComment(const std::string& comment);
const char* StopDescription(Stop stop);  // translated, for people

struct RuleDef {
  std::string chain;
  std::vector<Insn> insns;
  std::string match;        // the matches as nft prints them, e.g. `udp dport 53`
  std::string verdict;      // e.g. `accept`, `reject with tcp reset`
  Stop stop = Stop::kNone;  // set for counted rules; becomes the comment
};

struct Ruleset {
  std::vector<SetDef> sets;
  std::vector<ChainDef> chains;
  std::vector<RuleDef> rules;
};

// The table for a policy. The policy must have passed Validate().
Ruleset BuildRuleset(const Policy& policy);

// The table that blocks everything but loopback and link housekeeping:
// what goes in when nothing better can be installed.
Ruleset BuildBlockAllRuleset();

// The comment bytes nft stores for a rule comment (libnftnl udata TLV).
Bytes CommentUserdata(const std::string& comment);
// The comment in rule userdata, or "" if there is none.
std::string CommentFromUserdata(const Bytes& userdata);

}  // namespace nmks
