// The engine's one door to the kernel: installs a Ruleset as the table
// `inet nm-killswitch` in ONE netlink batch (the kernel applies all of it or
// none of it), reads the table back and compares it with what was meant.
// A TableWriter keeps its netlink socket open for its whole life: with an
// owned table the kernel lets only this socket change it. The socket can be
// handed to the service manager to keep (see guard/fd_store.h), so the
// table stays owned while no guard runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "base/status.h"
#include "rules/nft_socket.h"
#include "rules/ruleset.h"
#include "rules/table_compare.h"

namespace nmks {

enum class Ownership : uint8_t {
  kOwned,  // table flags OWNER | PERSIST: nobody else may change it; it outlives us
  // Table flag OWNER (Linux 5.12 to 6.8, no PERSIST): nobody else may change
  // it, but the kernel deletes it with its socket; so a second, unowned
  // table (kTwinTableName) with the same rules outlives the socket.
  kOwnedWithTwin,
  kUnowned,  // no flags: anyone root may change it; a watcher must repair it
};

// True if this kernel keeps an owned table when its owner goes away
// (nftables table flags OWNER | PERSIST, Linux 6.9 and later). Probes with a
// throwaway table in the calling thread's network namespace.
Result<bool> KernelKeepsOwnedTables();
// The strongest protection this kernel offers: kOwned (6.9+),
// kOwnedWithTwin (5.12+) or kUnowned. Probes as above.
Result<Ownership> StrongestOwnership();

class TableWriter {
 public:
  static Result<std::unique_ptr<TableWriter>> Open(Ownership ownership);
  // The same over a socket kept by an earlier process (NftSocket::Adopt).
  static Result<std::unique_ptr<TableWriter>> Open(Ownership ownership,
                                                   std::unique_ptr<NftSocket> socket);

  Ownership ownership() const { return ownership_; }
  uint32_t portid() const { return socket_->portid(); }
  int socket_fd() const { return socket_->fd(); }
  // The flags the table must carry in the kernel.
  uint32_t flags() const;

  // Replaces whatever table is there (and its twin) with `ruleset` in one
  // batch, then reads both back. On any error the kernel keeps what it had.
  // A table that is there keeps its base chains hooked: their rules and the
  // sets are replaced, so at no moment does a packet meet neither the old
  // rules nor the new. Only a table whose flags cannot change in place is
  // deleted and made again, while a handover table with the new rules
  // blocks beside it (three batches).
  // `generation` gets the ruleset generation the read-back found it at.
  Status Install(const Ruleset& ruleset, uint32_t* generation = nullptr);
  // Removes the table (and its twin) in one batch. Traffic is no longer
  // blocked after this.
  Status Remove();
  Result<TableState> Read();
  // The twin table (kOwnedWithTwin only; otherwise reads as absent).
  Result<TableState> ReadTwin();
  // Ok if the kernel holds exactly `meant` in the table and, where there is
  // one, its twin, with the flags this writer gives them and owned by this
  // writer's socket; otherwise says what differs. `generation` gets the
  // ruleset generation the table was read at, `read` the table as read.
  Status Check(const Ruleset& meant, uint32_t* generation = nullptr, TableState* read = nullptr);
  // Ok if the table is there with the flags this writer gives it, owned by
  // its socket, without table data (a dormant flag is a difference); reads
  // none of its contents. With kOwned that is all that can have changed
  // since a full Check: the kernel lets no other socket change an owned
  // table. `generation` gets the ruleset generation it was read at.
  Status CheckOwnership(uint32_t* generation);
  // The table and its rules with their counters, without sets or chains
  // (cheap however many endpoints the sets hold).
  Result<TableState> ReadRules(const char* name = kTableName);
  // The kernel's ruleset generation in this network namespace: it changes
  // with every committed change to any table, ours or another's.
  Result<uint32_t> Generation();

 private:
  TableWriter(std::unique_ptr<NftSocket> socket, Ownership ownership)
      : socket_(std::move(socket)), ownership_(ownership) {}
  Result<bool> AppendTable(Batch& batch, const char* name, uint32_t flags, const Ruleset& ruleset);
  Result<bool> SendInPlace(const Ruleset& ruleset, int* err);
  // The three batches of a handover; the status is worded for the user.
  Status SendWithHandover(const Ruleset& ruleset);

  std::unique_ptr<NftSocket> socket_;
  Ownership ownership_;
};

// Reads the table through a fresh socket (for `verify` from any process).
Result<TableState> ReadTable(const char* name = kTableName);

}  // namespace nmks
