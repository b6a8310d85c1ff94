// The Guard: the one owner of the kill-switch table. It keeps the policy of
// every engaged connection, installs their merge as one table, saves what is
// engaged so that a restarted guard takes the table over instead of opening
// traffic, keeps the boot ruleset file, and repairs the table when another
// process changes it (on kernels where it cannot own it). Every method leaves
// the kernel's table as it was when it fails. No D-Bus here: guard/bus_service.cc
// puts this behind the system bus.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "guard/policy_variant.h"
#include "rules/policy.h"
#include "rules/table_watch.h"
#include "rules/table_writer.h"

namespace nmks {

enum class Protection : uint8_t {
  kAuto,   // the strongest the kernel supports: owner, then twin, then watch
  kOwner,  // table flags OWNER | PERSIST (Linux 6.9 and later)
  kTwin,   // table flag OWNER plus an unowned twin table (Linux 5.12 to 6.8)
  kWatch,  // no flags; nftables notifications trigger a repair (older kernels)
};
const char* ProtectionName(Protection p);

struct GuardOptions {
  std::string state_file = std::string(NMKS_RUN_DIR) + "/state";
  std::string boot_file = std::string(NMKS_STATE_DIR) + "/boot.nft";
  Protection protection = Protection::kAuto;
  // The netlink socket an earlier guard owned the table with, kept by the
  // service manager (-1: none). Taken over so the table stays owned.
  int kept_socket = -1;
};

class Guard {
 public:
  // Takes over whatever the kernel, the state file and the boot file hold.
  static Result<std::unique_ptr<Guard>> Start(const GuardOptions& options);

  Status Engage(const std::string& connection, Policy policy, bool block_at_boot);
  Status Release(const std::string& connection);
  Status ReleaseAll();
  // connection "" means every engaged connection (on) or every one (off).
  Status SetBlockAtBoot(const std::string& connection, bool enabled);

  // Reads the table back; reinstalls it if it differs from the engaged
  // policy. Returns what it did ("" if nothing was needed). Nothing is read
  // back when the kernel's ruleset generation is the one last found right.
  Result<std::string> Repair();

  struct Report {
    bool ok = true;
    std::vector<std::string> lines;  // translated, one finding each
  };
  Report Verify();

  Protection protection() const { return protection_; }
  const Engagements& engaged() const { return engaged_; }
  // The table the engaged connections make (empty when none is engaged).
  const Ruleset& meant() const { return meant_; }
  const Engagements& boot() const { return boot_; }
  bool IsLockdown(const std::string& connection) const;
  bool AnyLockdown() const;
  // Whether Engage(connection, policy, block_at_boot) would loosen a
  // lockdown, which only an administrator allowed to release lockdowns may
  // do: take a connection out of lockdown (here or in the boot file), or,
  // while any connection is in lockdown, let through anything the table
  // (or, for a lockdown in the boot file, the boot table) does not let
  // through now (a tunnel, an endpoint, the LAN, IPv6).
  bool LoosensLockdown(const std::string& connection, const Policy& policy,
                       bool block_at_boot) const;
  // The same for SetBlockAtBoot: whether it would drop a lockdown from the
  // boot file or let the boot table (while it holds a lockdown) let more
  // through.
  bool BootLoosensLockdown(const std::string& connection, bool enabled) const;
  Result<TableState> ReadKernel() { return writer_->Read(); }
  // The twin table's rules and counters, without its sets (protection twin
  // only; otherwise reads as absent).
  Result<TableState> ReadTwinRules() {
    return protection_ == Protection::kTwin ? writer_->ReadRules(kTwinTableName) : TableState{};
  }
  // The kernel's table as Status shows it: read whole only if the ruleset
  // changed since the last read-back that found it as engaged; otherwise
  // the kernel's rules and counters and the engaged chains, without sets
  // (they are meant()'s; cheap at any number of endpoints). `same` says whether the kernel holds
  // exactly the engaged table (rules, flags, owner, twin); Ok when nothing is engaged.
  Result<TableState> KernelTable(Status* same);
  // The fd to watch for changes by others; -1 when nothing needs watching.
  int watch_fd() const { return watch_ ? watch_->fd() : -1; }
  // The socket that owns the table, for the service manager to keep.
  int owner_socket_fd() const { return writer_->socket_fd(); }
  // True if the socket was taken over from an earlier guard.
  bool took_over_socket() const { return took_over_socket_; }
  bool DrainWatch() { return watch_ && watch_->DrainForeignChanges(writer_->portid()); }
  // Problems found at start (unreadable files, ...), for Status.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  Guard(GuardOptions options, Protection protection, std::unique_ptr<TableWriter> writer,
        std::unique_ptr<TableWatch> watch);
  Status Adopt();
  // The boot file's engagements after SetBlockAtBoot(connection, enabled).
  Result<Engagements> NextBoot(const std::string& connection, bool enabled) const;
  // Installs `next` (or removes the table if empty), then saves it as state.
  // `merged`: Merge(next) when the caller has it already.
  Status Apply(const Engagements& next, const Policy* merged = nullptr);
  Status SaveState();
  Status SaveBoot(const Engagements& next);
  // True if the ruleset generation is the one of the last good read-back.
  bool UnchangedSinceVerified();
  // writer_->Check, remembering the generation when the table is right.
  Status CheckAndRemember(const Ruleset& meant, TableState* read);

  GuardOptions options_;
  Protection protection_;
  std::unique_ptr<TableWriter> writer_;
  std::unique_ptr<TableWatch> watch_;
  Engagements engaged_;
  Ruleset meant_;  // BuildRuleset(Merge(engaged_)), built once per change
  Engagements boot_;
  std::vector<std::string> warnings_;
  bool took_over_socket_ = false;
  // The ruleset generation at the last read-back that found the table
  // exactly as engaged (0: none yet; any change since gives another).
  uint32_t verified_generation_ = 0;
  bool verified_ = false;
};

}  // namespace nmks
