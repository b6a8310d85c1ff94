// Listens to nftables change notifications, for kernels where the table
// cannot be owned (or its twin can be changed): a change another process
// makes to one of our tables is a reason to read it back and repair it at
// once, and a change to any other table is none.
#pragma once

#include <cstdint>
#include <memory>

#include "base/status.h"

struct mnl_socket;

namespace nmks {

class TableWatch {
 public:
  // Subscribes in the calling thread's network namespace.
  static Result<std::unique_ptr<TableWatch>> Open();
  ~TableWatch();
  TableWatch(const TableWatch&) = delete;
  TableWatch& operator=(const TableWatch&) = delete;

  int fd() const;
  // Reads every pending notification without blocking. True if one from a
  // socket other than `own_portid` named our table or its twin (or named no
  // table we can tell), or if notifications were lost.
  bool DrainForeignChanges(uint32_t own_portid);
  // True if every notification up to ruleset generation `now` has been
  // read (see DrainForeignChanges), none was lost since ForgetLost(), and
  // no commit after generation `since` changed our tables from another
  // socket: then the tables are as they were at `since`.
  bool UntouchedBetween(uint32_t since, uint32_t now) const;
  // Call before a full read-back: what was lost until now, it will see.
  void ForgetLost() { lost_ = false; }

 private:
  explicit TableWatch(mnl_socket* nl) : nl_(nl) {}
  mnl_socket* nl_;
  bool lost_ = false;
  bool any_generation_ = false;
  uint32_t generation_ = 0;  // of the last commit whose notifications were all read
  bool touching_ = false;    // the commit being read changed our tables
  bool touched_ = false;     // some commit did, the last one at touched_generation_
  uint32_t touched_generation_ = 0;
};

}  // namespace nmks
