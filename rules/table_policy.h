// Recovers the Policy behind a kill-switch table found in the kernel, so a
// guard that starts without its saved state can take over a table it (or
// the boot loader) installed earlier instead of opening traffic.
#pragma once

#include "rules/policy.h"
#include "rules/ruleset.h"

namespace nmks {

struct RecoveredPolicy {
  Policy policy;
  bool exact = false;  // BuildRuleset(policy) equals the kernel's table
};

// Reads tunnels and endpoints from the table's sets and finds the LAN and
// IPv6 choices whose table matches. When nothing matches exactly, returns
// the strictest choices (no LAN, IPv6 blocked) with exact = false.
RecoveredPolicy RecoverPolicy(const Ruleset& kernel);

}  // namespace nmks
