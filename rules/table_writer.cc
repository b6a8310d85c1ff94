#include "rules/table_writer.h"

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>
#include <variant>
#include <vector>

#include "base/i18n.h"
#include "rules/nftnl_ptr.h"
#include "rules/table_codec.h"

namespace nmks {
namespace {

constexpr char kProbeTable[] = "nm-killswitch-probe";
constexpr int kReadBackAttempts = 3;
// Reads interrupted by other programs' changes before giving up.
constexpr int kInterruptedReads = 20;

// Only the table itself (exists? flags? owner?), not its contents.
Result<TableState> ReadTableOnly(NftSocket& socket, const char* name) {
  TableState state;
  int err = 0;
  Status s = socket.Request(
      NFT_MSG_GETTABLE, NLM_F_ACK,
      [name](nlmsghdr* m) {
        NftnlPtr<nftnl_table> t(nftnl_table_alloc());
        nftnl_table_set_str(t.get(), NFTNL_TABLE_NAME, name);
        nftnl_table_nlmsg_build_payload(m, t.get());
      },
      [&state](const nlmsghdr* m) {
        auto info = DecodeTable(m);
        if (!info.ok()) return MNL_CB_ERROR;
        state.exists = true;
        state.flags = info.value().flags;
        state.owner = info.value().owner;
        state.userdata = std::move(info.value().userdata);
        return MNL_CB_OK;
      },
      &err);
  if (!s.ok()) {
    if (err == ENOENT) return state;  // no table
    return s;
  }
  return state;
}

// One dump of the chains, sets, set elements or rules of table `name`:
// `decode` sees only the messages about that table (a dump may answer for
// every table of the family), and its first error ends the dump.
// On failure *err is the errno, if the kernel gave one.
Status Dump(NftSocket& socket, const char* name, uint16_t type,
            const std::function<void(nlmsghdr*)>& build,
            const std::function<Status(const nlmsghdr*)>& decode, int* err) {
  Status failure = Status::Ok();
  Status s = socket.Request(
      type, NLM_F_DUMP, build,
      [&](const nlmsghdr* m) {
        if (!InTable(m, name)) return MNL_CB_OK;
        failure = decode(m);
        return failure.ok() ? MNL_CB_OK : MNL_CB_ERROR;
      },
      err);
  return failure.ok() ? s : failure;
}

Status DumpSets(NftSocket& socket, const char* name, Ruleset& r, int* err) {
  return Dump(
      socket, name, NFT_MSG_GETSET,
      [name](nlmsghdr* m) {
        NftnlPtr<nftnl_set> set(nftnl_set_alloc());
        nftnl_set_set_str(set.get(), NFTNL_SET_TABLE, name);
        nftnl_set_nlmsg_build_payload(m, set.get());
      },
      [&r](const nlmsghdr* m) {
        auto set = DecodeSet(m);
        if (set.ok()) r.sets.push_back(std::move(set).value());
        return set.status();
      },
      err);
}

Status DumpSetElements(NftSocket& socket, const char* name, SetDef& set, int* err) {
  return Dump(
      socket, name, NFT_MSG_GETSETELEM,
      [&set, name](nlmsghdr* m) {
        NftnlPtr<nftnl_set> q(nftnl_set_alloc());
        nftnl_set_set_str(q.get(), NFTNL_SET_TABLE, name);
        nftnl_set_set_str(q.get(), NFTNL_SET_NAME, set.name.c_str());
        nftnl_set_elems_nlmsg_build_payload(m, q.get());
      },
      [&set](const nlmsghdr* m) { return DecodeSetElements(m, set); }, err);
}

Status DumpChains(NftSocket& socket, const char* name, Ruleset& r, int* err) {
  return Dump(
      socket, name, NFT_MSG_GETCHAIN,
      [name](nlmsghdr* m) {
        NftnlPtr<nftnl_chain> c(nftnl_chain_alloc());
        nftnl_chain_set_str(c.get(), NFTNL_CHAIN_TABLE, name);
        nftnl_chain_nlmsg_build_payload(m, c.get());
      },
      [&r](const nlmsghdr* m) {
        auto chain = DecodeChain(m);
        if (chain.ok()) r.chains.push_back(std::move(chain).value());
        return chain.status();
      },
      err);
}

Status DumpRules(NftSocket& socket, const char* name, Ruleset& r, int* err) {
  return Dump(
      socket, name, NFT_MSG_GETRULE,
      [name](nlmsghdr* m) {
        NftnlPtr<nftnl_rule> rule(nftnl_rule_alloc());
        nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, name);
        nftnl_rule_nlmsg_build_payload(m, rule.get());
      },
      [&r](const nlmsghdr* m) {
        auto rule = DecodeRule(m);
        if (rule.ok()) r.rules.push_back(std::move(rule).value());
        return rule.status();
      },
      err);
}

// One read of the table (without `whole`: the table and its rules only);
// *err is EINTR when another program changed the ruleset during a dump
// (the answer is then inconsistent).
Result<TableState> ReadOnce(NftSocket& socket, const char* name, bool whole, int* err) {
  auto table = ReadTableOnly(socket, name);
  if (!table.ok() || !table.value().exists) return table;
  TableState state = std::move(table).value();
  Ruleset& r = state.ruleset;
  if (whole) {
    if (Status s = DumpSets(socket, name, r, err); !s.ok()) return s;
    for (SetDef& set : r.sets) {
      if (Status s = DumpSetElements(socket, name, set, err); !s.ok()) return s;
    }
    if (Status s = DumpChains(socket, name, r, err); !s.ok()) return s;
  }
  if (Status s = DumpRules(socket, name, r, err); !s.ok()) return s;
  return state;
}

// The ruleset's generation: every committed change, ours or another
// program's, moves it.
Result<uint32_t> RulesetGeneration(NftSocket& socket) {
  std::optional<uint32_t> id;
  Status s = socket.Request(NFT_MSG_GETGEN, NLM_F_ACK, nullptr, [&id](const nlmsghdr* m) {
    NftnlPtr<nftnl_gen> gen(nftnl_gen_alloc());
    if (nftnl_gen_nlmsg_parse(m, gen.get()) < 0 || !nftnl_gen_is_set(gen.get(), NFTNL_GEN_ID)) {
      return MNL_CB_ERROR;
    }
    id = nftnl_gen_get_u32(gen.get(), NFTNL_GEN_ID);
    return MNL_CB_OK;
  });
  if (!s.ok()) return s;
  if (!id) return Status::Error(_("the kernel did not say which ruleset generation it holds"));
  return *id;
}

// Reads the table as one generation of the ruleset. A dump that overlaps
// another program's change (a firewall reloading) can repeat or skip
// entries without saying so (the kernel flags only some such dumps), so a
// read during which the generation moved is read again.
Result<TableState> ReadWith(NftSocket& socket, const char* name, uint32_t* generation = nullptr,
                            bool whole = true) {
  for (int attempt = 1;; ++attempt) {
    auto before = RulesetGeneration(socket);
    if (!before.ok()) return before.status();
    int err = 0;
    auto state = ReadOnce(socket, name, whole, &err);
    auto after = RulesetGeneration(socket);
    if (!after.ok()) return after.status();
    const bool changed = after.value() != before.value() || (!state.ok() && err == EINTR);
    if (!changed) {
      if (generation != nullptr) *generation = before.value();
      return state;
    }
    if (attempt == kInterruptedReads) {
      return Status::Error(
          _("the ruleset kept changing while the kill-switch table was read (another program "
            "is changing nftables without pause)"));
    }
  }
}

// True if table `name` holds a stateful object (a named counter, quota,
// limit...) or a flowtable. The engine makes neither, and a read-back does
// not look for them, so a table that has one is deleted, not refilled.
Result<bool> HoldsObjectsOrFlowtables(NftSocket& socket, const char* name) {
  bool any = false;
  for (uint16_t type : {NFT_MSG_GETOBJ, NFT_MSG_GETFLOWTABLE}) {
    int err = 0;
    Status s = Dump(
        socket, name, type, [](nlmsghdr*) {},
        [&any](const nlmsghdr*) {
          any = true;
          return Status::Ok();
        },
        &err);
    if (!s.ok()) return s;
  }
  return any;
}

// The table's sets (without their elements) and chains: what emptying it
// must delete.
Result<Ruleset> ReadShape(NftSocket& socket, const char* name) {
  Ruleset shape;
  int err = 0;
  if (Status s = DumpSets(socket, name, shape, &err); !s.ok()) return s;
  if (Status s = DumpChains(socket, name, shape, &err); !s.ok()) return s;
  return shape;
}

// True if a table that is there with flags `now` can be given `flags`
// without deleting it: it has them already (dormant or not: waking it
// hooks its chains at once, with their drop policy), or it is an orphan
// (PERSIST; its owner is gone) that an OWNER | PERSIST writer adopts.
// The kernel refuses every other change of OWNER or PERSIST.
bool FlagsChangeInPlace(uint32_t now, uint32_t flags) {
  now &= ~kTableFlagDormant;
  return now == flags ||
         (now == kTableFlagPersist && flags == (kTableFlagOwner | kTableFlagPersist));
}

// Appends what turns table `name`, which is there with `shape`, into
// `ruleset` while its base chains stay hooked: every chain is emptied and
// every set deleted, chains `ruleset` does not have (or hooks elsewhere)
// are deleted, and the rest is made again; all of it changes at the
// commit's one switch of generation. The table is not deleted and made
// again, because the kernel hooks a new base chain while it prepares the
// batch, ahead of the old one at the same priority, and gives it its drop
// policy only after the old one is unhooked: a datagram between the two
// would pass both (the kernel test
// AtomicityTest.ReplacingTheTableBesideAnotherFirewallNeverLetsAPacketThrough
// counted 36 in 100 replacements that way).
void AppendRefill(Batch& batch, const char* name, const TableState& before, uint32_t flags,
                  const Ruleset& shape, const Ruleset& ruleset) {
  if (before.flags != flags) AppendTableFlags(batch, name, flags);
  for (const ChainDef& chain : shape.chains) AppendFlushChain(batch, name, chain.name);
  for (const SetDef& set : shape.sets) {
    // An anonymous set goes with the rule that holds it.
    if ((set.flags & NFT_SET_ANONYMOUS) == 0) AppendDeleteSet(batch, name, set.name);
  }
  std::vector<std::string> hooked;
  for (const ChainDef& chain : shape.chains) {
    auto meant = std::find_if(ruleset.chains.begin(), ruleset.chains.end(),
                              [&chain](const ChainDef& c) { return c.name == chain.name; });
    if (meant == ruleset.chains.end() || meant->hook != chain.hook ||
        meant->priority != chain.priority || meant->type != chain.type) {
      AppendDeleteChain(batch, name, chain.name);
      continue;
    }
    hooked.push_back(chain.name);
    if (meant->policy != chain.policy) AppendChainPolicy(batch, name, chain.name, meant->policy);
  }
  AppendContents(batch, ruleset, name, hooked);
}

Status RefusedBecause(int err, const Status& s) {
  if (err == EPERM) {
    return Status::Error(
        _("another process owns the kill-switch table, so this one cannot change it (is a second "
          "nm-killswitch-guard running?); the table stays as it was"));
  }
  if (err == EOPNOTSUPP) {
    return Status::Error(
        _("the kernel does not support the nftables features the kill switch needs (table flags "
          "or expressions); the table stays as it was"));
  }
  return Status::Error(Format(_("%s; the table stays as it was"), s.message().c_str()));
}

}  // namespace

Result<bool> KernelKeepsOwnedTables() {
  auto socket = NftSocket::Open();
  if (!socket.ok()) return socket.status();
  Batch batch(socket.value()->NextSeq());
  AppendNewTable(batch, kProbeTable, kTableFlagOwner | kTableFlagPersist);
  AppendDeleteTable(batch, kProbeTable);
  batch.Finish();
  int err = 0;
  Status s = socket.value()->Send(batch, &err);
  if (s.ok()) return true;
  if (err == EOPNOTSUPP || err == EINVAL) return false;
  return s;
}

Result<Ownership> StrongestOwnership() {
  auto keeps = KernelKeepsOwnedTables();
  if (!keeps.ok()) return keeps.status();
  if (keeps.value()) return Ownership::kOwned;
  auto socket = NftSocket::Open();
  if (!socket.ok()) return socket.status();
  Batch batch(socket.value()->NextSeq());
  AppendNewTable(batch, kProbeTable, kTableFlagOwner);
  AppendDeleteTable(batch, kProbeTable);
  batch.Finish();
  int err = 0;
  Status s = socket.value()->Send(batch, &err);
  if (s.ok()) return Ownership::kOwnedWithTwin;
  if (err == EOPNOTSUPP || err == EINVAL) return Ownership::kUnowned;
  return s;
}

Result<std::unique_ptr<TableWriter>> TableWriter::Open(Ownership ownership) {
  auto socket = NftSocket::Open();
  if (!socket.ok()) return socket.status();
  return Open(ownership, std::move(socket).value());
}

Result<std::unique_ptr<TableWriter>> TableWriter::Open(Ownership ownership,
                                                       std::unique_ptr<NftSocket> socket) {
  return std::unique_ptr<TableWriter>(new TableWriter(std::move(socket), ownership));
}

uint32_t TableWriter::flags() const {
  switch (ownership_) {
    case Ownership::kOwned:
      return kTableFlagOwner | kTableFlagPersist;
    case Ownership::kOwnedWithTwin:
      return kTableFlagOwner;
    case Ownership::kUnowned:
      return 0;
  }
  return 0;
}

Result<TableState> TableWriter::Read() { return ReadWith(*socket_, kTableName); }

Result<uint32_t> TableWriter::Generation() { return RulesetGeneration(*socket_); }

Result<TableState> TableWriter::ReadRules(const char* name) {
  return ReadWith(*socket_, name, nullptr, /*whole=*/false);
}

Result<TableState> TableWriter::ReadTwin() {
  if (ownership_ != Ownership::kOwnedWithTwin) return TableState{};
  return ReadWith(*socket_, kTwinTableName);
}

Status TableWriter::CheckOwnership(uint32_t* generation) {
  auto before = RulesetGeneration(*socket_);
  if (!before.ok()) return before.status();
  auto table = ReadTableOnly(*socket_, kTableName);
  if (!table.ok()) return table.status();
  auto after = RulesetGeneration(*socket_);
  if (!after.ok()) return after.status();
  if (after.value() != before.value()) {
    return Status::Error(_("the ruleset changed while the kill-switch table was read"));
  }
  const TableState& t = table.value();
  if (Status s = CompareTableItself(t); !s.ok()) return s;
  if (t.flags != flags()) {
    return Status::Error(
        Format(_("the kernel holds the table with flags 0x%x instead of 0x%x"), t.flags, flags()));
  }
  if ((flags() & kTableFlagOwner) && t.owner != portid()) {
    return Status::Error(_("the table is not owned by the guard"));
  }
  *generation = before.value();
  return Status::Ok();
}

Status TableWriter::Check(const Ruleset& meant, uint32_t* generation, TableState* read) {
  auto table = ReadWith(*socket_, kTableName, generation);
  if (!table.ok()) return table.status();
  if (read != nullptr) *read = table.value();
  if (Status s = CompareTable(meant, table.value()); !s.ok()) return s;
  if (table.value().flags != flags()) {
    return Status::Error(Format(_("the kernel holds the table with flags 0x%x instead of 0x%x"),
                                table.value().flags, flags()));
  }
  if ((flags() & kTableFlagOwner) && table.value().owner != portid()) {
    return Status::Error(_("the table is not owned by the guard"));
  }
  if (ownership_ != Ownership::kOwnedWithTwin) return Status::Ok();
  auto twin = ReadTwin();
  if (!twin.ok()) return twin.status();
  if (!twin.value().exists) return Status::Error(_("the twin table is not in the kernel"));
  if (Status s = CompareTable(meant, twin.value()); !s.ok()) {
    return Status::Error(Format(_("the twin table differs: %s"), s.message().c_str()));
  }
  if (twin.value().flags != 0) {
    return Status::Error(
        Format(_("the kernel holds the twin table with flags 0x%x"), twin.value().flags));
  }
  return Status::Ok();
}

// Appends what makes table `name`, found as `before`, hold `ruleset` with
// `flags`. False if that needs the table deleted and made again (its flags
// cannot change in place, or it holds what we never write: table data,
// objects, flowtables).
Result<bool> TableWriter::AppendTable(Batch& batch, const char* name, uint32_t flags,
                                      const Ruleset& ruleset) {
  auto before = ReadTableOnly(*socket_, name);
  if (!before.ok()) return before.status();
  if (!before.value().exists) {
    AppendNewTable(batch, name, flags);
    AppendContents(batch, ruleset, name);
    return true;
  }
  if (!FlagsChangeInPlace(before.value().flags, flags) || !before.value().userdata.empty()) {
    return false;
  }
  auto extras = HoldsObjectsOrFlowtables(*socket_, name);
  if (!extras.ok()) return extras.status();
  if (extras.value()) return false;
  auto shape = ReadShape(*socket_, name);
  if (!shape.ok()) return shape.status();
  AppendRefill(batch, name, before.value(), flags, shape.value(), ruleset);
  return true;
}

// The table (and the twin) filled with `ruleset` in one batch, each kept
// where it is there. False, with nothing sent, if a table must be deleted
// and made again.
Result<bool> TableWriter::SendInPlace(const Ruleset& ruleset, int* err) {
  Batch batch(socket_->NextSeq());
  auto table = AppendTable(batch, kTableName, flags(), ruleset);
  if (!table.ok() || !table.value()) return table;
  if (ownership_ == Ownership::kOwnedWithTwin) {
    auto twin = AppendTable(batch, kTwinTableName, 0, ruleset);
    if (!twin.ok() || !twin.value()) return twin;
  }
  // A handover table left by a writer that died in the middle of one.
  auto handover = ReadTableOnly(*socket_, kHandoverTableName);
  if (!handover.ok()) return handover.status();
  if (handover.value().exists) AppendDeleteTable(batch, kHandoverTableName);
  batch.Finish();
  if (Status s = socket_->Send(batch, err); !s.ok()) return s;
  return true;
}

// For a table whose flags cannot change in place (say, the unowned table
// a boot loader left on a kernel without PERSIST, taken over by an owner):
// first the handover table with the new rules, then the table deleted and
// made again beside it, then the handover table deleted. The handover
// table blocks through the second batch, and the new table's chains have
// their drop policy before the third. Returns what to tell the user.
Status TableWriter::SendWithHandover(const Ruleset& ruleset) {
  int err = 0;
  Batch first(socket_->NextSeq());
  auto handover = ReadTableOnly(*socket_, kHandoverTableName);
  if (!handover.ok()) return RefusedBecause(0, handover.status());
  if (handover.value().exists) AppendDeleteTable(first, kHandoverTableName);
  AppendNewTable(first, kHandoverTableName, 0);
  AppendContents(first, ruleset, kHandoverTableName);
  first.Finish();
  if (Status s = socket_->Send(first, &err); !s.ok()) return RefusedBecause(err, s);

  Batch second(socket_->NextSeq());
  for (const char* name : {kTableName, kTwinTableName}) {
    const bool twin = name == kTwinTableName;
    if (twin && ownership_ != Ownership::kOwnedWithTwin) continue;
    auto before = ReadTableOnly(*socket_, name);
    if (!before.ok()) return RefusedBecause(0, before.status());
    if (before.value().exists) AppendDeleteTable(second, name);
    AppendNewTable(second, name, twin ? 0 : flags());
    AppendContents(second, ruleset, name);
  }
  second.Finish();
  Status sent = socket_->Send(second, &err);
  const int second_err = err;

  // Tried once more if it fails: until it is gone the handover table
  // blocks what the new rules block, so it does no harm, but it is not ours
  // to leave behind.
  Status removed = Status::Ok();
  for (int attempt = 0; attempt < 2; ++attempt) {
    Batch third(socket_->NextSeq());
    AppendDeleteTable(third, kHandoverTableName);
    third.Finish();
    removed = socket_->Send(third, &err);
    if (removed.ok()) break;
  }
  if (!sent.ok()) return RefusedBecause(second_err, sent);
  if (!removed.ok()) {
    return Status::Error(
        Format(_("the kill-switch table was replaced, but the handover table \"%s\" could not be "
                 "deleted (%s); it blocks what the new table blocks until the kill switch changes "
                 "again or is removed"),
               kHandoverTableName, removed.message().c_str()));
  }
  return Status::Ok();
}

Status TableWriter::Install(const Ruleset& ruleset, uint32_t* generation) {
  int err = 0;
  auto in_place = SendInPlace(ruleset, &err);
  if (!in_place.ok()) return RefusedBecause(err, in_place.status());
  if (!in_place.value()) {
    if (Status s = SendWithHandover(ruleset); !s.ok()) return s;
  }

  // Read back. Right after a large insert the kernel may still be resizing
  // a set, and a dump that overlaps a resize can repeat or skip elements; a
  // real difference persists, so it is read again before it is reported.
  Status same = Status::Ok();
  for (int attempt = 0; attempt < kReadBackAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
    same = Check(ruleset, generation);
    if (same.ok()) break;
  }
  return same;
}

Status TableWriter::Remove() {
  Batch batch(socket_->NextSeq());
  bool any = false;
  for (const char* name : {kTableName, kTwinTableName, kHandoverTableName}) {
    auto before = ReadTableOnly(*socket_, name);
    if (!before.ok()) return before.status();
    if (!before.value().exists) continue;
    AppendDeleteTable(batch, name);
    any = true;
  }
  if (!any) return Status::Ok();
  batch.Finish();
  int err = 0;
  if (Status s = socket_->Send(batch, &err); !s.ok()) return RefusedBecause(err, s);
  for (const char* name : {kTableName, kTwinTableName, kHandoverTableName}) {
    auto after = ReadTableOnly(*socket_, name);
    if (!after.ok()) return after.status();
    if (after.value().exists) return Status::Error(_("the kill-switch table is still there"));
  }
  return Status::Ok();
}

Result<TableState> ReadTable(const char* name) {
  auto socket = NftSocket::Open();
  if (!socket.ok()) return socket.status();
  return ReadWith(*socket.value(), name);
}

}  // namespace nmks
