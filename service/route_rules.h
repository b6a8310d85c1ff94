// Keeps WireGuard's own encrypted packets out of every tunnel at the
// routing level. Our tunnels join an interface group; two policy routing
// rules per family send packets carrying our fwmark through the main table
// with routes over that group suppressed, and refuse them when nothing else
// is left. A userspace WireGuard whose route to its server vanished then
// gets "unreachable" instead of looping its packets into its own tunnel, and
// peers that NetworkManager adds no host route for still go out of the
// physical link. (The kill-switch table drops such packets too; this makes
// them reach their server instead.)
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace nmks::wg {

// Puts `ifname` into the tunnels' interface group.
Status JoinTunnelGroup(const std::string& ifname, uint32_t group);
// Adds the rules for `mark` if they are not there (IPv4 and IPv6).
Status EnsureMarkRules(uint32_t mark, uint32_t group);

}  // namespace nmks::wg
