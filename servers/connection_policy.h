// The kill-switch policy for one VPN connection, the same for the VPN
// service (service/) and the dispatcher hook (dispatcher/): its tunnel
// interface, the endpoints of its servers (servers/resolve.h) and the
// connection's options. IPv6 goes through the tunnel only when the tunnel
// carries it; with no tunnel interface (the hook could not tell which it
// is) only the servers are reachable.
#pragma once

#include <string>
#include <vector>

#include "rules/policy.h"

namespace nmks {

// `tunnel` "" means no tunnel. The policy comes back normalized.
Policy ConnectionPolicy(const std::string& tunnel, const std::vector<Endpoint>& endpoints,
                        bool tunnel_has_ipv6, bool allow_lan, Mode mode);

}  // namespace nmks
