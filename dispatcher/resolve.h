// Turns remotes into the endpoints the kill switch allows: address literals
// as they are, host names through the system's resolver, as the VPN client
// resolves them, to every address they have. All names are looked up at
// once and the whole lookup gets one time budget: NetworkManager waits for
// the hook, so a dead DNS server must not hold it up. A name that does not
// resolve in time opens nothing.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "dispatcher/remotes.h"
#include "rules/policy.h"

namespace nmks::dispatch {

struct Resolution {
  std::vector<Endpoint> endpoints;       // sorted, without duplicates, no mark
  std::vector<std::string> unresolved;   // translated: which host and why
};

Resolution Resolve(const std::vector<Remote>& remotes, std::chrono::milliseconds budget);

// The endpoints for `remote` when its host resolved to `addresses`:
// addresses of the wrong family, loopback, unspecified and multicast ones
// are left out (and said so in *why).
std::vector<Endpoint> EndpointsFor(const Remote& remote, const std::vector<Address>& addresses,
                                   std::string* why);

}  // namespace nmks::dispatch
