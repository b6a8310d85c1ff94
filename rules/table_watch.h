// Listens to nftables change notifications, for kernels where the table
// cannot be owned: any change made by another process is a reason to read
// our table back and repair it at once.
#pragma once

#include <cstdint>
#include <memory>

#include "rules/status.h"

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
  // Reads every pending notification without blocking. True if any came
  // from a socket other than `own_portid`, or if notifications were lost.
  bool DrainForeignChanges(uint32_t own_portid);

 private:
  explicit TableWatch(mnl_socket* nl) : nl_(nl) {}
  mnl_socket* nl_;
};

}  // namespace nmks
