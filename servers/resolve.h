// The VPN's servers as the endpoints the kill switch allows, for the VPN
// service (service/) and the dispatcher hook (dispatcher/) alike: address
// literals as they are, host names through the system's resolver, as the
// VPN client resolves them, to every address they have. All names are
// looked up at once and the whole lookup gets one time budget, so a dead
// DNS server cannot hold up NetworkManager. Loopback, unspecified and
// multicast addresses are never a VPN server; an IPv4-mapped IPv6 address
// counts as the IPv4 address it stands for.
//
// A name that gives no address opens nothing by itself. The kill switch
// blocks DNS, so a reconnect (or a boot with the kill switch engaged) may
// well not resolve: KeepHeld then keeps what the guard already allows for
// the connection on that server's port and protocol.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/address.h"

namespace nmks {

enum class Family : uint8_t { kAny, kIpv4, kIpv6 };

// One server a VPN client connects to.
struct Remote {
  std::string host;  // an address literal (no brackets) or a host name
  uint16_t port = 0;
  Protocol protocol = Protocol::kUdp;
  Family family = Family::kAny;
  bool operator==(const Remote&) const = default;
};

// What one host name gave: its addresses in the resolver's order, or why
// it gave none (translated).
struct HostAnswer {
  std::vector<Address> addresses;
  std::string error;
};

struct Resolution {
  // One per remote, in the remotes' order: its endpoints in the resolver's
  // order (no mark), or, when it has none, why (translated) and whether
  // it was a name that did not resolve (KeepHeld may fill it in).
  struct Answer {
    std::vector<Endpoint> endpoints;
    std::string why;
    bool name_failed = false;
  };
  std::vector<Answer> answers;
  std::vector<Endpoint> endpoints;      // all, sorted, without duplicates
  std::vector<std::string> unresolved;  // translated: "host (port N/proto): why"
};

Resolution Resolve(const std::vector<Remote>& remotes, std::chrono::milliseconds budget);

// The resolution of `remotes` when the names gave `answers` (a name missing
// there did not resolve); Resolve's second half, for tests and fakes.
Resolution ResolutionOf(const std::vector<Remote>& remotes,
                        const std::map<std::string, HostAnswer>& answers);

// The endpoints for `remote` when its host resolved to `addresses`:
// addresses of the wrong family, loopback, unspecified and multicast ones
// are left out (and said so in *why).
std::vector<Endpoint> EndpointsFor(const Remote& remote, const std::vector<Address>& addresses,
                                   std::string* why);

// For each remote whose name did not resolve, the endpoints `held()`
// returns (what the guard allows for the connection) on the remote's port
// and protocol, added to its answer and to the whole. `held` is called at
// most once, and only when a name did not resolve. Returns how many
// endpoints were kept.
size_t KeepHeld(const std::vector<Remote>& remotes, Resolution* resolution,
                const std::function<std::vector<Endpoint>()>& held);

}  // namespace nmks
