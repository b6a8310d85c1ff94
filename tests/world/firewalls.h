// The firewalls distributions ship, as they leave the kernel: Debian's
// default /etc/nftables.conf, a typical hand-written nftables ruleset, a
// firewalld-like `inet firewalld` table, the iptables-nft tables of ufw
// and docker, and podman's network backend netavark run for real. Each
// comes with the commands its service runs at start and at reload, so a
// test can load one into a namespace and reload it while the kill switch
// holds its own table. Rules name only test-world addresses.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "tests/world/netns.h"

namespace nmks::world {

struct Firewall {
  std::string name;    // for test names: letters, digits and '_'
  std::string start;   // /bin/sh script its service runs at start
  std::string reload;  // /bin/sh script its service runs at reload
  // The tables it leaves in the kernel, as `nft list tables` names them
  // ("table inet filter").
  std::vector<std::string> tables;
  bool flushes_ruleset = false;  // reload runs `flush ruleset` (nftables.service)
  // /bin/sh script that removes what start made outside the namespace's
  // tables (netavark's container namespace); "" if nothing.
  std::string stop;
};

std::vector<Firewall> DistributionFirewalls();
// For test output: the firewall's name.
inline void PrintTo(const Firewall& firewall, std::ostream* os) { *os << firewall.name; }

// A firewall started in a namespace. Its stop script runs when this goes
// (at the end of a test, passed or failed); `ns` must outlive it.
class RunningFirewall {
 public:
  RunningFirewall(const Netns& ns, const Firewall& firewall);
  ~RunningFirewall();
  RunningFirewall(const RunningFirewall&) = delete;
  RunningFirewall& operator=(const RunningFirewall&) = delete;

 private:
  const Netns& ns_;
  std::string stop_;
};

// Runs `firewall`'s start (or reload) script in `ns`; throws if it fails.
[[nodiscard]] RunningFirewall StartFirewall(const Netns& ns, const Firewall& firewall);
void ReloadFirewall(const Netns& ns, const Firewall& firewall);
// The tables of `firewall` missing from `ns` ("" if none is missing).
std::string MissingTables(const Netns& ns, const Firewall& firewall);

}  // namespace nmks::world
