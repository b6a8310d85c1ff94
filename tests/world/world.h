// The standard world of the kernel tests: a client machine with a physical
// link `eth0` to a router that is "the internet", and `tun0`, a veth that
// stands in for the VPN tunnel, to a VPN server namespace. Both far ends
// own the same internet addresses, so a test decides per destination
// whether the client routes it through the tunnel or around it, and counts
// on each side what arrived. Only documentation and private addresses are
// used, all inside namespaces the World made and deletes.
//
//   guest (optional)        client                      router
//   eth0 203.0.113.130 ---- guest0 203.0.113.129
//                           eth0 198.51.100.2 --------- client0 198.51.100.1
//                                2001:db8:1::2                  2001:db8:1::1, fe80::1
//                           tun0 192.0.2.2 ------------ client0 192.0.2.1       (vpn)
//                                2001:db8:2::2                  2001:db8:2::1
//
// Router and vpn both answer for 203.0.113.0/25 and 2001:db8:ff::/64; the
// router also for LAN addresses: 10.1.0.0/24, 172.16.1.0/24, 192.168.1.0/24,
// 169.254.1.0/24, 100.64.0.0/24 (CGNAT) and fd00:1::/64.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rules/policy.h"
#include "rules/ruleset.h"
#include "rules/table_writer.h"
#include "tests/world/netns.h"
#include "tests/world/packets.h"
#include "tests/world/tally.h"

namespace nmks::world {

inline constexpr char kClientEth4[] = "198.51.100.2";
inline constexpr char kRouterEth4[] = "198.51.100.1";
inline constexpr char kClientEth6[] = "2001:db8:1::2";
inline constexpr char kRouterEth6[] = "2001:db8:1::1";
inline constexpr char kRouterLinkLocal[] = "fe80::1";
inline constexpr char kClientTun4[] = "192.0.2.2";
inline constexpr char kVpnTun4[] = "192.0.2.1";
inline constexpr char kClientTun6[] = "2001:db8:2::2";
inline constexpr char kVpnTun6[] = "2001:db8:2::1";
inline constexpr char kGuest4[] = "203.0.113.130";
// Answered by both router and vpn; assigned to their loopback so sockets can bind.
inline constexpr char kInternet6Endpoint[] = "2001:db8:ff::1";

class World {
 public:
  World();
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Routes `dest` (one IPv4 or IPv6 host) from the client through tun0.
  void RouteViaTunnel(const std::string& dest);
  // Deletes tun0 and makes it again, as a VPN client that reconnects does;
  // the routes through it come back too. Interface index changes.
  void RecreateTunnel();
  // A namespace behind the client, as a VM or container would be; the
  // client forwards for it (ip_forward=1).
  const Netns& AddGuest();

  // Installs the table for `policy` in the client through a writer the
  // world keeps open (Ownership::kOwned).
  Status Install(const Policy& policy);
  Status Install(const Ruleset& ruleset);
  TableWriter& writer();
  // The sum of the counters of the table's rules that stop for `stop`.
  uint64_t Stopped(Stop stop);

  Netns client{"c"};
  Netns router{"r"};
  Netns vpn{"v"};

 private:
  void MakeTunnel();
  std::vector<std::string> tunnel_routes_;
  std::unique_ptr<Netns> guest_;
  std::unique_ptr<TableWriter> writer_;
};

// Opens a TableWriter whose socket belongs to `ns`.
std::unique_ptr<TableWriter> OpenWriter(const Netns& ns, Ownership ownership);
// Reads the table in `ns` through a fresh socket.
Result<TableState> ReadTableIn(const Netns& ns, const char* name = kTableName);
uint64_t StoppedBy(const TableState& state, Stop stop);
// `nft list table inet nm-killswitch` in `ns`, or "" if there is none.
std::string ListTable(const Netns& ns);

// Policy pieces.
Policy TunnelOnly(const std::string& tunnel = "tun0");
Endpoint Unmarked(const char* text);
Endpoint Marked(const char* text, uint32_t mark = kDefaultMark);

// True when running in CI (the environment has CI=true).
bool InCi();

// Skips a test that needs root when it is not root, except in CI, where it
// fails: there a skipped kernel test would hide a broken world.
#define NMKS_REQUIRE_ROOT()                                                           \
  do {                                                                                \
    if (geteuid() != 0) {                                                             \
      if (::nmks::world::InCi()) FAIL() << "this test needs root, and CI must run it"; \
      GTEST_SKIP() << "this test needs root (network namespaces, nftables)";          \
    }                                                                                 \
  } while (0)

// A test in a fresh World; skipped unless run as root (failed in CI).
class KernelTest : public testing::Test {
 protected:
  void SetUp() override;
  World& world() { return *world_; }
  // How many of 2 UDP datagrams from the client to 203.0.113.99 (blocked
  // by every kill-switch table the tests install) get out of eth0.
  uint64_t Leaks(uint16_t port);

 private:
  std::unique_ptr<World> world_;
};

}  // namespace nmks::world
