#include "guard/guard.h"

#include <malloc.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "base/i18n.h"
#include "guard/boot_file.h"
#include "guard/files.h"
#include "rules/ruleset.h"
#include "rules/table_codec.h"

namespace nmks {
namespace {

// What the guard engages under `adopted` when it cannot trust what it
// found: no tunnel, no endpoint, lockdown (only loopback and link
// housekeeping get out).
Policy BlockEverythingPolicy() {
  Policy p;
  p.no_tunnel = true;
  p.mode = Mode::kLockdown;
  p.connections = {kAdoptedConnection};
  return p;
}

Result<Engagements> LoadEngagements(const std::string& path, bool boot_format, bool* missing) {
  int err = 0;
  auto content = ReadFileLimited(path, kMaxPolicyFileBytes, &err);
  *missing = !content.ok() && err == ENOENT;
  if (!content.ok()) return content.status();
  return boot_format ? ParseBootFile(content.value()) : EngagementsFromBytes(content.value());
}

// Whether `then` lets through anything `now` does not, or is not in
// lockdown. Both normalized (sorted).
bool LetsMoreThrough(const Policy& then, const Policy& now) {
  auto contains = [](const auto& sorted, const auto& v) {
    return std::binary_search(sorted.begin(), sorted.end(), v);
  };
  for (const auto& t : then.tunnels)
    if (!contains(now.tunnels, t)) return true;
  for (const auto& e : then.endpoints)
    if (!contains(now.endpoints, e)) return true;
  return (then.allow_lan && !now.allow_lan) || (then.allow_cgnat && !now.allow_cgnat) ||
         (then.ipv6 == Ipv6Mode::kTunnel && now.ipv6 != Ipv6Mode::kTunnel) ||
         then.mode != Mode::kLockdown;
}

}  // namespace

const char* ProtectionName(Protection p) {
  switch (p) {
    case Protection::kAuto:
      return "auto";
    case Protection::kOwner:
      return "owner";
    case Protection::kTwin:
      return "twin";
    case Protection::kWatch:
      return "watch";
  }
  return "";
}

Guard::Guard(GuardOptions options, Protection protection, std::unique_ptr<TableWriter> writer,
             std::unique_ptr<TableWatch> watch)
    : options_(std::move(options)),
      protection_(protection),
      writer_(std::move(writer)),
      watch_(std::move(watch)) {}

Result<std::unique_ptr<Guard>> Guard::Start(const GuardOptions& options) {
  Protection protection = options.protection;
  if (protection == Protection::kAuto) {
    auto strongest = StrongestOwnership();
    if (!strongest.ok()) return strongest.status();
    switch (strongest.value()) {
      case Ownership::kOwned:
        protection = Protection::kOwner;
        break;
      case Ownership::kOwnedWithTwin:
        protection = Protection::kTwin;
        break;
      case Ownership::kUnowned:
        protection = Protection::kWatch;
        break;
    }
  }
  Ownership ownership = protection == Protection::kOwner  ? Ownership::kOwned
                        : protection == Protection::kTwin ? Ownership::kOwnedWithTwin
                                                          : Ownership::kUnowned;
  std::vector<std::string> warnings;
  std::unique_ptr<NftSocket> socket;
  if (options.kept_socket >= 0) {
    auto kept = NftSocket::Adopt(options.kept_socket);
    if (kept.ok()) {
      socket = std::move(kept).value();
    } else {
      warnings.push_back(Format(_("the socket kept by the service manager cannot be used (%s); "
                                  "a new one takes the table over"),
                                kept.message().c_str()));
    }
  }
  bool took_over = socket != nullptr;
  if (!socket) {
    auto fresh = NftSocket::Open();
    if (!fresh.ok()) return fresh.status();
    socket = std::move(fresh).value();
  }
  auto writer = TableWriter::Open(ownership, std::move(socket));
  if (!writer.ok()) return writer.status();
  std::unique_ptr<TableWatch> watch;
  if (protection == Protection::kWatch || protection == Protection::kTwin) {
    auto w = TableWatch::Open();
    if (!w.ok()) return w.status();
    watch = std::move(w).value();
  }
  std::unique_ptr<Guard> guard(
      new Guard(options, protection, std::move(writer).value(), std::move(watch)));
  guard->warnings_ = std::move(warnings);
  guard->took_over_socket_ = took_over;
  if (Status s = guard->Adopt(); !s.ok()) return s;
  return guard;
}

Status Guard::Adopt() {
  bool missing = false;
  auto boot = LoadEngagements(options_.boot_file, true, &missing);
  if (boot.ok()) {
    boot_ = std::move(boot).value();
  } else if (!missing) {
    warnings_.push_back(Format(_("the boot ruleset file cannot be used (%s): at the next boot "
                                 "everything will be blocked until a VPN connects"),
                               boot.message().c_str()));
  }

  auto kernel = writer_->Read();
  if (!kernel.ok()) return kernel.status();

  auto saved = LoadEngagements(options_.state_file, false, &missing);
  Engagements next;
  if (saved.ok()) next = std::move(saved).value();

  if (next.empty() && kernel.value().exists && !boot_.empty() &&
      CompareTable(BuildRuleset(Merge(boot_)), kernel.value()).ok()) {
    // The table the boot loader installed from our own boot file.
    next = boot_;
  } else if (!saved.ok() && !missing) {
    // What was engaged is unknown, with or without a table in the kernel:
    // block everything rather than nothing.
    next[kAdoptedConnection] = BlockEverythingPolicy();
    warnings_.push_back(Format(_("the saved state cannot be read (%s): everything is blocked "
                                 "(lockdown) until an administrator runs nm-killswitch release"),
                               saved.message().c_str()));
  } else if (next.empty() && kernel.value().exists) {
    // A table without saved state that is not the boot table: whoever made
    // it, its tunnels and endpoints were not written by the guard (a root
    // process can plant a table that lets the physical link out as a
    // "tunnel"), so none of it is trusted. Block everything instead.
    next[kAdoptedConnection] = BlockEverythingPolicy();
    warnings_.push_back(
        _("a kill-switch table was found without saved state; its tunnels and endpoints are not "
          "trusted: everything is blocked (lockdown) until an administrator runs nm-killswitch "
          "release"));
  }
  if (next.empty()) return Status::Ok();  // nothing engaged, nothing to take over
  if (Status s = Apply(next); !s.ok()) {
    return Status::Error(
        Format(_("cannot take over the kill-switch table: %s"), s.message().c_str()));
  }
  return Status::Ok();
}

Status Guard::Apply(const Engagements& next, const Policy* merged) {
  // The same table again (a VPN that reconnects engages the same policy;
  // another connection may add nothing new) with nothing committed by
  // anyone since the last read-back found it right: the kernel holds it,
  // so nothing is sent and nothing is read again (counters keep counting).
  if (!next.empty() && !engaged_.empty() && UnchangedSinceVerified()) {
    Policy now = Merge(engaged_);
    Policy then = merged != nullptr ? *merged : Merge(next);
    now.connections.clear();
    then.connections.clear();
    if (now == then) {
      engaged_ = next;
      return SaveState();
    }
  }
  Ruleset meant = next.empty()        ? Ruleset{}
                  : merged != nullptr ? BuildRuleset(*merged)
                                      : BuildRuleset(Merge(next));
  verified_ = false;
  if (watch_) watch_->ForgetLost();
  uint32_t generation = 0;
  Status s = next.empty() ? writer_->Remove() : writer_->Install(meant, &generation);
  if (!s.ok()) return s;
  // Install read the table back and found it as meant: until the ruleset
  // changes again, Status and Repair need not read it.
  verified_ = !next.empty();
  verified_generation_ = generation;
  engaged_ = next;
  meant_ = std::move(meant);
  Status saved = SaveState();
  // A large policy's transient copies (the decoded request, the batch, the
  // table read back) go back to the system instead of staying in the heap.
  malloc_trim(0);
  return saved;
}

Status Guard::SaveState() {
  if (engaged_.empty()) return RemoveFile(options_.state_file);
  return WriteFileAtomically(options_.state_file, EngagementsToBytes(engaged_), 0600);
}

Status Guard::SaveBoot(const Engagements& next) {
  Status s = next.empty() ? RemoveFile(options_.boot_file)
                          : WriteFileAtomically(options_.boot_file, RenderBootFile(next), 0600);
  if (s.ok()) boot_ = next;
  return s;
}

Status Guard::Engage(const std::string& connection, Policy policy, bool block_at_boot) {
  if (Status s = ValidateConnectionId(connection); !s.ok()) return s;
  if (connection == kAdoptedConnection) {
    return Status::Error(Format(_("the connection name \"%s\" is reserved"), connection.c_str()));
  }
  policy.connections = {connection};
  Normalize(policy);
  if (Status s = Validate(policy); !s.ok()) {
    return Status::Error(Format(_("%s; nothing was changed"), s.message().c_str()));
  }
  Engagements next = engaged_;
  // The `adopted` placeholder stays: it is in lockdown, and only a release
  // with the right to end a lockdown removes it.
  next[connection] = policy;
  if (next.size() > kMaxConnections) {
    return Status::Error(
        Format(_("%zu connections are engaged; the limit is %zu"), next.size(), kMaxConnections));
  }
  const Policy merged = Merge(next);
  if (Status s = Validate(merged); !s.ok()) {
    return Status::Error(Format(_("%s; nothing was changed"), s.message().c_str()));
  }
  if (Status s = Apply(next, &merged); !s.ok()) return s;

  Engagements boot_next = boot_;
  if (block_at_boot) {
    boot_next[connection] = policy;
  } else {
    boot_next.erase(connection);
  }
  if (boot_next != boot_) {
    if (Status s = SaveBoot(boot_next); !s.ok()) {
      return Status::Error(Format(_("the kill switch is engaged, but the boot setting could not "
                                    "be saved: %s"),
                                  s.message().c_str()));
    }
  }
  return Status::Ok();
}

Status Guard::Release(const std::string& connection) {
  if (engaged_.find(connection) == engaged_.end()) {
    return Status::Error(Format(_("connection \"%s\" is not engaged"), connection.c_str()));
  }
  Engagements next = engaged_;
  next.erase(connection);
  return Apply(next);
}

Status Guard::ReleaseAll() { return Apply({}); }

Result<Engagements> Guard::NextBoot(const std::string& connection, bool enabled) const {
  Engagements next = boot_;
  if (enabled) {
    if (connection.empty()) {
      if (engaged_.empty()) {
        return Status::Error(
            _("nothing is engaged: engage a connection first, then turn on "
              "blocking at boot"));
      }
      next = engaged_;
    } else {
      auto it = engaged_.find(connection);
      if (it == engaged_.end()) {
        return Status::Error(Format(_("connection \"%s\" is not engaged: engage it first, then "
                                      "turn on blocking at boot"),
                                    connection.c_str()));
      }
      next[connection] = it->second;
    }
  } else if (connection.empty()) {
    next.clear();
  } else if (next.erase(connection) == 0) {
    return Status::Error(Format(_("connection \"%s\" is not blocked at boot"), connection.c_str()));
  }
  return next;
}

Status Guard::SetBlockAtBoot(const std::string& connection, bool enabled) {
  auto next = NextBoot(connection, enabled);
  if (!next.ok()) return next.status();
  return SaveBoot(next.value());
}

bool Guard::BootLoosensLockdown(const std::string& connection, bool enabled) const {
  auto next = NextBoot(connection, enabled);
  if (!next.ok()) return false;  // refused anyway
  for (const auto& [id, p] : boot_) {
    auto it = next.value().find(id);
    if (p.mode == Mode::kLockdown &&
        (it == next.value().end() || it->second.mode != Mode::kLockdown)) {
      return true;
    }
  }
  return Merge(boot_).mode == Mode::kLockdown && LetsMoreThrough(Merge(next.value()), Merge(boot_));
}

bool Guard::IsLockdown(const std::string& connection) const {
  auto it = engaged_.find(connection);
  return it != engaged_.end() && it->second.mode == Mode::kLockdown;
}

bool Guard::AnyLockdown() const {
  for (const auto& [id, p] : engaged_)
    if (p.mode == Mode::kLockdown) return true;
  return false;
}

bool Guard::LoosensLockdown(const std::string& connection, const Policy& policy,
                            bool block_at_boot) const {
  Policy p = policy;
  p.connections = {connection};
  Normalize(p);
  // The boot file: a lockdown there holds at the next boot.
  auto boot = boot_.find(connection);
  if (boot != boot_.end() && boot->second.mode == Mode::kLockdown &&
      (!block_at_boot || p.mode != Mode::kLockdown)) {
    return true;
  }
  if (Merge(boot_).mode == Mode::kLockdown) {
    Engagements boot_next = boot_;
    if (block_at_boot) {
      boot_next[connection] = p;
    } else {
      boot_next.erase(connection);
    }
    if (boot_next.empty() || LetsMoreThrough(Merge(boot_next), Merge(boot_))) return true;
  }
  // The table now.
  if (!AnyLockdown()) return false;
  if (IsLockdown(connection) && p.mode != Mode::kLockdown) return true;
  Engagements next = engaged_;
  next[connection] = p;
  return LetsMoreThrough(Merge(next), Merge(engaged_));
}

bool Guard::UnchangedSinceVerified() {
  if (!verified_) return false;
  auto generation = writer_->Generation();
  if (!generation.ok()) return false;
  if (generation.value() == verified_generation_) return true;
  // Another commit since (a firewall reload, a container's rules): read
  // back only what can have changed.
  if (protection_ == Protection::kOwner) {
    // Nobody but our socket can change an owned table: its flags (dormant)
    // and owner are all there is to look at.
    uint32_t at = 0;
    if (!writer_->CheckOwnership(&at).ok()) return false;
    verified_generation_ = at;
    return true;
  }
  // The owned table of a twin cannot change either; the twin and an
  // unowned table can, and each change names its table in a notification.
  if (!watch_) return false;
  (void)watch_->DrainForeignChanges(writer_->portid());
  if (!watch_->UntouchedBetween(verified_generation_, generation.value())) return false;
  verified_generation_ = generation.value();
  return true;
}

Status Guard::CheckAndRemember(const Ruleset& meant, TableState* read) {
  verified_ = false;
  if (watch_) watch_->ForgetLost();
  uint32_t generation = 0;
  Status same = writer_->Check(meant, &generation, read);
  if (read == nullptr) malloc_trim(0);  // the table read back is gone
  if (same.ok()) {
    verified_ = true;
    verified_generation_ = generation;
  }
  return same;
}

Result<std::string> Guard::Repair() {
  if (engaged_.empty()) return std::string();
  // No commit since the last good read-back (ours or anyone's, a dormant
  // flag included, moves the generation): the table is as it was found.
  if (UnchangedSinceVerified()) return std::string();
  const Ruleset& meant = meant_;
  Status diff = CheckAndRemember(meant, nullptr);
  if (diff.ok()) return std::string();
  if (watch_) watch_->ForgetLost();
  uint32_t generation = 0;
  if (Status s = writer_->Install(meant, &generation); !s.ok()) return s;
  verified_ = true;
  verified_generation_ = generation;
  return diff.message();
}

Result<TableState> Guard::KernelTable(Status* same) {
  *same = Status::Ok();
  if (engaged_.empty()) return writer_->Read();
  const Ruleset& meant = meant_;
  if (!UnchangedSinceVerified()) {
    TableState read;
    *same = CheckAndRemember(meant, &read);
    if (!same->ok()) return read.exists ? Result<TableState>(read) : writer_->Read();
  }
  // As verified: the kernel's rules (counters) and the engaged chains; the
  // sets are meant() (not copied: 100,000 elements for every Status).
  auto rules = writer_->ReadRules();
  if (!rules.ok()) return rules;
  TableState state = std::move(rules).value();
  state.ruleset.chains = meant.chains;
  return state;
}

Guard::Report Guard::Verify() {
  Report r;
  auto kernel = writer_->Read();
  if (!kernel.ok()) {
    r.ok = false;
    r.lines.push_back(kernel.message());
    return r;
  }
  const TableState& k = kernel.value();
  if (engaged_.empty()) {
    r.ok = false;
    r.lines.push_back(_("no connection is engaged: traffic is not blocked by the kill switch"));
    if (k.exists) r.lines.push_back(_("a table named nm-killswitch exists but is not ours"));
    return r;
  }
  const Ruleset& meant = meant_;
  Status same = CompareTable(meant, k);
  if (same.ok()) {
    r.lines.push_back(_("the table in the kernel is exactly the engaged policy"));
  } else {
    r.ok = false;
    r.lines.push_back(Format(_("the table in the kernel differs: %s"), same.message().c_str()));
  }
  if (same.ok()) {
    if (Status owned = writer_->Check(meant); !owned.ok()) {
      r.ok = false;
      r.lines.push_back(owned.message());
    }
  }
  switch (protection_) {
    case Protection::kOwner:
      if (r.ok) {
        r.lines.push_back(
            _("the table is owned by the guard: no other process can change or "
              "delete it, and it stays if the guard stops"));
      }
      break;
    case Protection::kTwin:
      if (r.ok) {
        r.lines.push_back(
            _("the table is owned by the guard: no other process can change or delete it; an "
              "unowned twin with the same rules keeps blocking if the guard stops"));
      }
      break;
    case Protection::kAuto:
    case Protection::kWatch:
      r.lines.push_back(
          _("the kernel cannot lock the table; the guard repairs it the moment "
            "another process changes it"));
      break;
  }
  return r;
}

}  // namespace nmks
