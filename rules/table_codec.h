// Turns a Ruleset into nf_tables netlink messages (libnftnl) and what the
// kernel sends back into the same Ruleset form. No I/O here.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <string>
#include <vector>

#include "rules/nft_socket.h"
#include "rules/ruleset.h"

namespace nmks {

// Table flags: OWNER ties the table to our socket, PERSIST keeps it when the
// socket closes. PERSIST is newer than the headers of Debian 12.
inline constexpr uint32_t kTableFlagOwner = 0x2;
inline constexpr uint32_t kTableFlagPersist = 0x4;

void AppendNewTable(Batch& batch, const char* name, uint32_t flags);
// Gives the table `name`, which is there already, `flags` (wakes a dormant
// table, adopts an orphaned one).
void AppendTableFlags(Batch& batch, const char* name, uint32_t flags);
void AppendDeleteTable(Batch& batch, const char* name);
// Sets with their elements, chains and rules of `ruleset` into `table`,
// which the batch must have created before, or which is there already;
// the chains named in `hooked` are there already, hooked as `ruleset` has
// them, and are not made again.
void AppendContents(Batch& batch, const Ruleset& ruleset, const char* table = kTableName,
                    const std::vector<std::string>& hooked = {});
// Deletes every rule of `chain`; the chain, its hook and its policy stay.
void AppendFlushChain(Batch& batch, const char* table, const std::string& chain);
void AppendDeleteChain(Batch& batch, const char* table, const std::string& chain);
// Gives the base chain `chain`, which is there already, the policy `policy`.
void AppendChainPolicy(Batch& batch, const char* table, const std::string& chain, uint32_t policy);
void AppendDeleteSet(Batch& batch, const char* table, const std::string& set);

// Table flag DORMANT: the table's chains are unhooked; it filters nothing.
inline constexpr uint32_t kTableFlagDormant = 0x1;

struct TableInfo {
  uint32_t flags = 0;
  uint32_t owner = 0;  // netlink port id of the owner, if flags has OWNER
  Bytes userdata;      // e.g. a comment; the kill switch writes none
};
Result<TableInfo> DecodeTable(const nlmsghdr* message);
// True if a chain, set, set-element, rule, object or flowtable message is about `table` of
// family inet. Dumps also answer for other tables (a distribution
// firewall's `inet filter`, our own twin); only the asked one is decoded.
bool InTable(const nlmsghdr* message, const char* table);
Result<ChainDef> DecodeChain(const nlmsghdr* message);
Result<SetDef> DecodeSet(const nlmsghdr* message);
// Appends the element keys of one GETSETELEM answer to `set`.
Status DecodeSetElements(const nlmsghdr* message, SetDef& set);
Result<RuleDef> DecodeRule(const nlmsghdr* message);

}  // namespace nmks
