// The engine's one door to the kernel: installs a Ruleset as the table
// `inet nm-killswitch` in ONE netlink batch (the kernel applies all of it or
// none of it), reads the table back and compares it with what was meant.
// A TableWriter keeps its netlink socket open for its whole life: with
// Ownership::kOwned the kernel lets only this socket change the table, and
// (with PERSIST) keeps the table when the socket closes.
#pragma once

#include <memory>
#include <string>

#include "rules/nft_socket.h"
#include "rules/ruleset.h"
#include "rules/status.h"

namespace nmks {

enum class Ownership : uint8_t {
  kOwned,    // table flags OWNER | PERSIST: nobody else may change it; it outlives us
  kUnowned,  // no flags: anyone root may change it; a watcher must repair it
};

// What the kernel holds under our table's name.
struct TableState {
  bool exists = false;
  uint32_t flags = 0;
  uint32_t owner = 0;
  Ruleset ruleset;  // decoded: no texts, counters as the kernel counts them
};

// True if this kernel keeps an owned table when its owner goes away
// (nftables table flags OWNER | PERSIST, Linux 6.9 and later). Probes with a
// throwaway table in the calling thread's network namespace.
Result<bool> KernelKeepsOwnedTables();

class TableWriter {
 public:
  static Result<std::unique_ptr<TableWriter>> Open(Ownership ownership);

  Ownership ownership() const { return ownership_; }
  uint32_t portid() const { return socket_->portid(); }

  // Replaces whatever table is there with `ruleset` in one batch, then
  // reads it back. On any error the kernel keeps the table it had.
  Status Install(const Ruleset& ruleset);
  // Removes the table in one batch. Traffic is no longer blocked after this.
  Status Remove();
  Result<TableState> Read();

 private:
  TableWriter(std::unique_ptr<NftSocket> socket, Ownership ownership)
      : socket_(std::move(socket)), ownership_(ownership) {}

  std::unique_ptr<NftSocket> socket_;
  Ownership ownership_;
};

// Reads the table through a fresh socket (for `verify` from any process).
Result<TableState> ReadTable();

// Ok if the kernel's table is exactly `meant` (counter values aside);
// otherwise says where it differs.
Status CompareTable(const Ruleset& meant, const TableState& kernel);

// The ruleset with every counter set to zero.
Ruleset WithoutCounts(Ruleset ruleset);

}  // namespace nmks
