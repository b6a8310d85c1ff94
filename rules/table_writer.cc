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

Status TableWriter::Install(const Ruleset& ruleset, uint32_t* generation) {
  const bool twin = ownership_ == Ownership::kOwnedWithTwin;
  auto before = ReadTableOnly(*socket_, kTableName);
  if (!before.ok()) return before.status();
  Result<TableState> twin_before = TableState{};
  if (twin) twin_before = ReadTableOnly(*socket_, kTwinTableName);
  if (!twin_before.ok()) return twin_before.status();
  Batch batch(socket_->NextSeq());
  if (before.value().exists) AppendDeleteTable(batch, kTableName);
  AppendNewTable(batch, kTableName, flags());
  AppendContents(batch, ruleset, kTableName);
  if (twin) {
    if (twin_before.value().exists) AppendDeleteTable(batch, kTwinTableName);
    AppendNewTable(batch, kTwinTableName, 0);
    AppendContents(batch, ruleset, kTwinTableName);
  }
  batch.Finish();
  int err = 0;
  if (Status s = socket_->Send(batch, &err); !s.ok()) return RefusedBecause(err, s);

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
  for (const char* name : {kTableName, kTwinTableName}) {
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
  for (const char* name : {kTableName, kTwinTableName}) {
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
