// The kill-switch table as read from the kernel, and whether it is exactly
// the table meant: pure comparison, no netlink (rules/table_writer.* reads
// and writes the kernel).
#pragma once

#include <cstdint>

#include "rules/ruleset.h"

namespace nmks {

// What the kernel holds under our table's name.
struct TableState {
  bool exists = false;
  uint32_t flags = 0;
  uint32_t owner = 0;
  Bytes userdata;   // the table's own data (a comment); ours has none
  Ruleset ruleset;  // decoded: no texts, counters as the kernel counts them
};

// Ok if the kernel's table is exactly `meant` (counter values aside): its
// sets, chains and rules, no table flag but the ownership ones (a dormant
// table filters nothing), no table data. Otherwise says where it differs.
// Which ownership flags are right is TableWriter::Check's business.
Status CompareTable(const Ruleset& meant, const TableState& kernel);

// The part of CompareTable about the table itself, not its contents: it is
// there, with no flag but the ownership ones and no table data.
Status CompareTableItself(const TableState& kernel);

// The ruleset with every counter set to zero.
Ruleset WithoutCounts(Ruleset ruleset);

}  // namespace nmks
