#include "rules/table_codec.h"

// glibc's headers before the kernel's, so linux/libc-compat.h sees them.
#include <arpa/inet.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/i18n.h"
#include "rules/nftnl_ptr.h"

namespace nmks {
namespace {

// Elements per NEWSETELEM message: the element list is one netlink
// attribute, whose length must fit in 16 bits.
constexpr size_t kElementsPerMessage = 512;

constexpr uint16_t kCreate = NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;

// One instruction as a libnftnl expression, one operator per kind.
struct Encoder {
  nftnl_expr* operator()(const MetaLoad& i) const {
    nftnl_expr* e = nftnl_expr_alloc("meta");
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, i.key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, i.dreg);
    return e;
  }
  nftnl_expr* operator()(const PayloadLoad& i) const {
    nftnl_expr* e = nftnl_expr_alloc("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, i.base);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, i.offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, i.len);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, i.dreg);
    return e;
  }
  nftnl_expr* operator()(const Bitwise& i) const {
    nftnl_expr* e = nftnl_expr_alloc("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, i.sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, i.dreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, i.len);
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, i.mask.data(), static_cast<uint32_t>(i.mask.size()));
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, i.xor_value.data(),
                   static_cast<uint32_t>(i.xor_value.size()));
    return e;
  }
  nftnl_expr* operator()(const Cmp& i) const {
    nftnl_expr* e = nftnl_expr_alloc("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, i.sreg);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, i.op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, i.data.data(), static_cast<uint32_t>(i.data.size()));
    return e;
  }
  nftnl_expr* operator()(const Lookup& i) const {
    nftnl_expr* e = nftnl_expr_alloc("lookup");
    nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, i.sreg);
    nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, i.set.c_str());
    return e;
  }
  nftnl_expr* operator()(const CtLoad& i) const {
    nftnl_expr* e = nftnl_expr_alloc("ct");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, i.key);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, i.dreg);
    return e;
  }
  nftnl_expr* operator()(const Fib& i) const {
    nftnl_expr* e = nftnl_expr_alloc("fib");
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, i.flags);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, i.result);
    nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, i.dreg);
    return e;
  }
  nftnl_expr* operator()(const Counter& i) const {
    nftnl_expr* e = nftnl_expr_alloc("counter");
    nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, i.packets);
    nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, i.bytes);
    return e;
  }
  nftnl_expr* operator()(const Verdict& i) const {
    nftnl_expr* e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(i.code));
    return e;
  }
  nftnl_expr* operator()(const Reject& i) const {
    nftnl_expr* e = nftnl_expr_alloc("reject");
    nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, i.type);
    nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, i.code);
    return e;
  }
};

NftnlPtr<nftnl_expr> Encode(const Insn& insn) {
  return NftnlPtr<nftnl_expr>(std::visit(Encoder{}, insn));
}

Bytes GetData(const nftnl_expr* e, uint16_t attr) {
  uint32_t len = 0;
  const void* p = nftnl_expr_get(e, attr, &len);
  if (p == nullptr) return {};
  const auto* b = static_cast<const uint8_t*>(p);
  return Bytes(b, b + len);
}

Result<Insn> Decode(const nftnl_expr* e) {
  std::string name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  auto u32 = [e](uint16_t attr) { return nftnl_expr_get_u32(e, attr); };
  if (name == "meta") return Insn{MetaLoad{u32(NFTNL_EXPR_META_KEY), u32(NFTNL_EXPR_META_DREG)}};
  if (name == "payload") {
    return Insn{PayloadLoad{u32(NFTNL_EXPR_PAYLOAD_BASE), u32(NFTNL_EXPR_PAYLOAD_OFFSET),
                            u32(NFTNL_EXPR_PAYLOAD_LEN), u32(NFTNL_EXPR_PAYLOAD_DREG)}};
  }
  if (name == "bitwise") {
    return Insn{Bitwise{u32(NFTNL_EXPR_BITWISE_SREG), u32(NFTNL_EXPR_BITWISE_DREG),
                        u32(NFTNL_EXPR_BITWISE_LEN), GetData(e, NFTNL_EXPR_BITWISE_MASK),
                        GetData(e, NFTNL_EXPR_BITWISE_XOR)}};
  }
  if (name == "cmp") {
    return Insn{
        Cmp{u32(NFTNL_EXPR_CMP_SREG), u32(NFTNL_EXPR_CMP_OP), GetData(e, NFTNL_EXPR_CMP_DATA)}};
  }
  if (name == "lookup") {
    const char* set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
    return Insn{Lookup{u32(NFTNL_EXPR_LOOKUP_SREG), set ? set : ""}};
  }
  if (name == "ct") {
    if (nftnl_expr_is_set(e, NFTNL_EXPR_CT_SREG) || nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR)) {
      return Status::Error(_("the kernel's table has a ct expression we never install"));
    }
    return Insn{CtLoad{u32(NFTNL_EXPR_CT_KEY), u32(NFTNL_EXPR_CT_DREG)}};
  }
  if (name == "fib") {
    return Insn{
        Fib{u32(NFTNL_EXPR_FIB_FLAGS), u32(NFTNL_EXPR_FIB_RESULT), u32(NFTNL_EXPR_FIB_DREG)}};
  }
  if (name == "counter") {
    return Insn{Counter{nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS),
                        nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES)}};
  }
  if (name == "immediate") {
    if (u32(NFTNL_EXPR_IMM_DREG) != NFT_REG_VERDICT) {
      return Status::Error(_("the kernel's table has an immediate that is not a verdict"));
    }
    return Insn{Verdict{static_cast<int32_t>(u32(NFTNL_EXPR_IMM_VERDICT))}};
  }
  if (name == "reject") {
    return Insn{Reject{u32(NFTNL_EXPR_REJECT_TYPE), nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE)}};
  }
  return Status::Error(
      Format(_("the kernel's table has an expression we never install: %s"), name.c_str()));
}

// The elements straight into the message with libmnl, as
// nftnl_set_elems_nlmsg_build_payload lays them out, without a libnftnl
// object per element (100,000 allocations and copies for 100,000 endpoints).
void AppendSetElements(Batch& batch, const char* table, const SetDef& set, uint32_t set_id) {
  for (size_t start = 0; start < set.elements.size(); start += kElementsPerMessage) {
    nlmsghdr* m = batch.Begin(NFT_MSG_NEWSETELEM, kCreate);
    mnl_attr_put_strz(m, NFTA_SET_ELEM_LIST_SET, set.name.c_str());
    mnl_attr_put_u32(m, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id));
    mnl_attr_put_strz(m, NFTA_SET_ELEM_LIST_TABLE, table);
    nlattr* list = mnl_attr_nest_start(m, NFTA_SET_ELEM_LIST_ELEMENTS);
    const size_t end = std::min(set.elements.size(), start + kElementsPerMessage);
    for (size_t i = start; i < end; ++i) {
      nlattr* element = mnl_attr_nest_start(m, NFTA_LIST_ELEM);
      nlattr* key = mnl_attr_nest_start(m, NFTA_SET_ELEM_KEY);
      mnl_attr_put(m, NFTA_DATA_VALUE, set.elements[i].size(), set.elements[i].data());
      mnl_attr_nest_end(m, key);
      mnl_attr_nest_end(m, element);
    }
    mnl_attr_nest_end(m, list);
    batch.End(m);
  }
}

// The attributes in [begin, end), each checked to lie within it; stops at
// the first one that does not (`ok` then false).
template <typename Fn>
void ForEachAttr(const void* begin, const void* end, bool* ok, Fn fn) {
  const auto* attr = static_cast<const nlattr*>(begin);
  const char* stop = static_cast<const char*>(end);
  while (reinterpret_cast<const char*>(attr) < stop) {
    if (!mnl_attr_ok(attr, static_cast<int>(stop - reinterpret_cast<const char*>(attr)))) {
      *ok = false;
      return;
    }
    fn(attr);
    attr = mnl_attr_next(attr);
  }
}

template <typename Fn>
void ForEachNested(const nlattr* nest, bool* ok, Fn fn) {
  const char* payload = static_cast<const char*>(mnl_attr_get_payload(nest));
  ForEachAttr(payload, payload + mnl_attr_get_payload_len(nest), ok, fn);
}

}  // namespace

namespace {

void AppendTable(Batch& batch, const char* name, uint32_t flags, uint16_t message_flags) {
  NftnlPtr<nftnl_table> t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name);
  nftnl_table_set_u32(t.get(), NFTNL_TABLE_FLAGS, flags);
  nlmsghdr* m = batch.Begin(NFT_MSG_NEWTABLE, message_flags);
  nftnl_table_nlmsg_build_payload(m, t.get());
  batch.End(m);
}

}  // namespace

void AppendNewTable(Batch& batch, const char* name, uint32_t flags) {
  AppendTable(batch, name, flags, kCreate);
}

void AppendTableFlags(Batch& batch, const char* name, uint32_t flags) {
  AppendTable(batch, name, flags, NLM_F_ACK);
}

void AppendDeleteTable(Batch& batch, const char* name) {
  NftnlPtr<nftnl_table> t(nftnl_table_alloc());
  nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name);
  nlmsghdr* m = batch.Begin(NFT_MSG_DELTABLE, NLM_F_ACK);
  nftnl_table_nlmsg_build_payload(m, t.get());
  batch.End(m);
}

void AppendFlushChain(Batch& batch, const char* table, const std::string& chain) {
  NftnlPtr<nftnl_rule> r(nftnl_rule_alloc());
  nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table);
  nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, chain.c_str());
  nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nlmsghdr* m = batch.Begin(NFT_MSG_DELRULE, NLM_F_ACK);
  nftnl_rule_nlmsg_build_payload(m, r.get());
  batch.End(m);
}

void AppendDeleteChain(Batch& batch, const char* table, const std::string& chain) {
  NftnlPtr<nftnl_chain> c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.c_str());
  nlmsghdr* m = batch.Begin(NFT_MSG_DELCHAIN, NLM_F_ACK);
  nftnl_chain_nlmsg_build_payload(m, c.get());
  batch.End(m);
}

void AppendChainPolicy(Batch& batch, const char* table, const std::string& chain, uint32_t policy) {
  NftnlPtr<nftnl_chain> c(nftnl_chain_alloc());
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table);
  nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.c_str());
  nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, policy);
  nlmsghdr* m = batch.Begin(NFT_MSG_NEWCHAIN, NLM_F_ACK);
  nftnl_chain_nlmsg_build_payload(m, c.get());
  batch.End(m);
}

void AppendDeleteSet(Batch& batch, const char* table, const std::string& set) {
  NftnlPtr<nftnl_set> s(nftnl_set_alloc());
  nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table);
  nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.c_str());
  nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
  nlmsghdr* m = batch.Begin(NFT_MSG_DELSET, NLM_F_ACK);
  nftnl_set_nlmsg_build_payload(m, s.get());
  batch.End(m);
}

void AppendContents(Batch& batch, const Ruleset& ruleset, const char* table,
                    const std::vector<std::string>& hooked) {
  uint32_t set_id = 1;
  for (const SetDef& set : ruleset.sets) {
    NftnlPtr<nftnl_set> s(nftnl_set_alloc());
    nftnl_set_set_str(s.get(), NFTNL_SET_TABLE, table);
    nftnl_set_set_str(s.get(), NFTNL_SET_NAME, set.name.c_str());
    nftnl_set_set_u32(s.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
    nftnl_set_set_u32(s.get(), NFTNL_SET_FLAGS, set.flags);
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_TYPE, set.key_type);
    nftnl_set_set_u32(s.get(), NFTNL_SET_KEY_LEN, set.key_len);
    nftnl_set_set_u32(s.get(), NFTNL_SET_ID, set_id);
    // The number of elements, known up front (the table is always replaced
    // whole): the kernel then picks its fixed-size hash instead of the
    // resizable one, which inserts 100,000 elements without rehashing and
    // walks them several times faster for every message of a read-back.
    // It is also the set's limit, which nothing beyond this batch reaches.
    if (!set.elements.empty()) {
      nftnl_set_set_u32(s.get(), NFTNL_SET_DESC_SIZE, static_cast<uint32_t>(set.elements.size()));
    }
    if (!set.userdata.empty()) {
      nftnl_set_set_data(s.get(), NFTNL_SET_USERDATA, set.userdata.data(),
                         static_cast<uint32_t>(set.userdata.size()));
    }
    nlmsghdr* m = batch.Begin(NFT_MSG_NEWSET, kCreate);
    nftnl_set_nlmsg_build_payload(m, s.get());
    batch.End(m);
    AppendSetElements(batch, table, set, set_id);
    ++set_id;
  }
  for (const ChainDef& chain : ruleset.chains) {
    if (std::find(hooked.begin(), hooked.end(), chain.name) != hooked.end()) continue;
    NftnlPtr<nftnl_chain> c(nftnl_chain_alloc());
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, table);
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_NAME, chain.name.c_str());
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_HOOKNUM, chain.hook);
    nftnl_chain_set_s32(c.get(), NFTNL_CHAIN_PRIO, chain.priority);
    nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TYPE, chain.type.c_str());
    nftnl_chain_set_u32(c.get(), NFTNL_CHAIN_POLICY, chain.policy);
    nlmsghdr* m = batch.Begin(NFT_MSG_NEWCHAIN, kCreate);
    nftnl_chain_nlmsg_build_payload(m, c.get());
    batch.End(m);
  }
  for (const RuleDef& rule : ruleset.rules) {
    NftnlPtr<nftnl_rule> r(nftnl_rule_alloc());
    nftnl_rule_set_str(r.get(), NFTNL_RULE_TABLE, table);
    nftnl_rule_set_str(r.get(), NFTNL_RULE_CHAIN, rule.chain.c_str());
    nftnl_rule_set_u32(r.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
    for (const Insn& insn : rule.insns) nftnl_rule_add_expr(r.get(), Encode(insn).release());
    if (rule.stop != Stop::kNone) {
      Bytes ud = CommentUserdata(StopComment(rule.stop));
      nftnl_rule_set_data(r.get(), NFTNL_RULE_USERDATA, ud.data(),
                          static_cast<uint32_t>(ud.size()));
    }
    nlmsghdr* m = batch.Begin(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK);
    nftnl_rule_nlmsg_build_payload(m, r.get());
    batch.End(m);
  }
}

Result<TableInfo> DecodeTable(const nlmsghdr* message) {
  NftnlPtr<nftnl_table> t(nftnl_table_alloc());
  if (nftnl_table_nlmsg_parse(message, t.get()) < 0) {
    return Status::Error(_("the kernel sent a table we cannot read"));
  }
  TableInfo info;
  info.flags = nftnl_table_get_u32(t.get(), NFTNL_TABLE_FLAGS);
  if (nftnl_table_is_set(t.get(), NFTNL_TABLE_OWNER)) {
    info.owner = nftnl_table_get_u32(t.get(), NFTNL_TABLE_OWNER);
  }
  uint32_t len = 0;
  const void* ud = nftnl_table_get_data(t.get(), NFTNL_TABLE_USERDATA, &len);
  if (ud != nullptr) {
    const auto* b = static_cast<const uint8_t*>(ud);
    info.userdata.assign(b, b + len);
  }
  return info;
}

bool InTable(const nlmsghdr* message, const char* table) {
  // The table's name is attribute 1 of each of these messages.
  static_assert(NFTA_CHAIN_TABLE == 1 && NFTA_SET_TABLE == 1 && NFTA_SET_ELEM_LIST_TABLE == 1 &&
                NFTA_RULE_TABLE == 1 && NFTA_OBJ_TABLE == 1 && NFTA_FLOWTABLE_TABLE == 1);
  if (message->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) return false;
  const auto* header = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(message));
  if (header->nfgen_family != NFPROTO_INET) return false;
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(message));
  for (auto* attr =
           static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, sizeof(nfgenmsg)));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) != 1) continue;
    return mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 &&
           std::strcmp(mnl_attr_get_str(attr), table) == 0;
  }
  return false;
}

Result<ChainDef> DecodeChain(const nlmsghdr* message) {
  NftnlPtr<nftnl_chain> c(nftnl_chain_alloc());
  if (nftnl_chain_nlmsg_parse(message, c.get()) < 0) {
    return Status::Error(_("the kernel sent a chain we cannot read"));
  }
  ChainDef chain;
  chain.name = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_NAME);
  chain.hook = nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_HOOKNUM);
  chain.priority = nftnl_chain_get_s32(c.get(), NFTNL_CHAIN_PRIO);
  const char* type = nftnl_chain_get_str(c.get(), NFTNL_CHAIN_TYPE);
  chain.type = type ? type : "";
  chain.policy = nftnl_chain_is_set(c.get(), NFTNL_CHAIN_POLICY)
                     ? nftnl_chain_get_u32(c.get(), NFTNL_CHAIN_POLICY)
                     : NF_ACCEPT;
  return chain;
}

Result<SetDef> DecodeSet(const nlmsghdr* message) {
  NftnlPtr<nftnl_set> s(nftnl_set_alloc());
  if (nftnl_set_nlmsg_parse(message, s.get()) < 0) {
    return Status::Error(_("the kernel sent a set we cannot read"));
  }
  SetDef set;
  set.name = nftnl_set_get_str(s.get(), NFTNL_SET_NAME);
  set.flags = nftnl_set_get_u32(s.get(), NFTNL_SET_FLAGS);
  set.key_type = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_TYPE);
  set.key_len = nftnl_set_get_u32(s.get(), NFTNL_SET_KEY_LEN);
  uint32_t len = 0;
  const void* ud = nftnl_set_get_data(s.get(), NFTNL_SET_USERDATA, &len);
  if (ud != nullptr) {
    const auto* b = static_cast<const uint8_t*>(ud);
    set.userdata.assign(b, b + len);
  }
  ClassifySet(set);
  return set;
}

// Read with libmnl straight into the set's keys (no libnftnl object per
// element): the elements list, in it one nest per element, in each the key
// (NFTA_SET_ELEM_KEY, holding NFTA_DATA_VALUE). An element without a key
// is skipped.
Status DecodeSetElements(const nlmsghdr* message, SetDef& set) {
  bool ok = message->nlmsg_len >= NLMSG_LENGTH(sizeof(nfgenmsg));
  if (ok) {
    ForEachAttr(mnl_nlmsg_get_payload_offset(message, sizeof(nfgenmsg)),
                mnl_nlmsg_get_payload_tail(message), &ok, [&](const nlattr* list) {
                  if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS) return;
                  ForEachNested(list, &ok, [&](const nlattr* element) {
                    ForEachNested(element, &ok, [&](const nlattr* key) {
                      if (mnl_attr_get_type(key) != NFTA_SET_ELEM_KEY) return;
                      ForEachNested(key, &ok, [&](const nlattr* value) {
                        if (mnl_attr_get_type(value) != NFTA_DATA_VALUE) return;
                        const auto* b = static_cast<const uint8_t*>(mnl_attr_get_payload(value));
                        set.elements.emplace_back(b, b + mnl_attr_get_payload_len(value));
                      });
                    });
                  });
                });
  }
  if (!ok) return Status::Error(_("the kernel sent set elements we cannot read"));
  return Status::Ok();
}

Result<RuleDef> DecodeRule(const nlmsghdr* message) {
  NftnlPtr<nftnl_rule> r(nftnl_rule_alloc());
  if (nftnl_rule_nlmsg_parse(message, r.get()) < 0) {
    return Status::Error(_("the kernel sent a rule we cannot read"));
  }
  RuleDef rule;
  rule.chain = nftnl_rule_get_str(r.get(), NFTNL_RULE_CHAIN);
  NftnlPtr<nftnl_expr_iter> it(nftnl_expr_iter_create(r.get()));
  for (nftnl_expr* e = nftnl_expr_iter_next(it.get()); e != nullptr;
       e = nftnl_expr_iter_next(it.get())) {
    auto insn = Decode(e);
    if (!insn.ok()) return insn.status();
    rule.insns.push_back(std::move(insn).value());
  }
  uint32_t len = 0;
  const void* ud = nftnl_rule_get_data(r.get(), NFTNL_RULE_USERDATA, &len);
  if (ud != nullptr) {
    const auto* b = static_cast<const uint8_t*>(ud);
    rule.stop = StopFromComment(CommentFromUserdata(Bytes(b, b + len)));
  }
  return rule;
}

}  // namespace nmks
