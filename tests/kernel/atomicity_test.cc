// One table, one batch: replacing the table is "delete table, add table
// with everything" in one netlink transaction, so there is no moment
// without the table. An unprivileged sender streams UDP at a blocked
// destination the whole time while the table is replaced over and over
// with different policies; the router must count exactly zero.
#include <chrono>
#include <cstdio>

#include "tests/world/world.h"

namespace nmks::world {
namespace {

constexpr int kReplacements = 1000;

class AtomicityTest : public KernelTest {};

TEST_F(AtomicityTest, ReplacingTheTableNeverLetsAPacketThrough) {
  // Different tables, each blocking 203.0.113.99 out of eth0.
  Policy a = TunnelOnly();
  Policy b = TunnelOnly("wg0");
  b.tunnels.push_back("wg1");
  b.endpoints = {Unmarked("203.0.113.10:1194/udp"), Marked("203.0.113.1:51820/udp")};
  Policy c = TunnelOnly("tun9");
  c.allow_lan = true;
  c.allow_cgnat = true;
  c.ipv6 = Ipv6Mode::kTunnel;
  c.endpoints = {Unmarked("203.0.113.99:4701/udp"), Marked("[2001:db8:ff::1]:51820/udp")};
  const Ruleset tables[] = {BuildRuleset(a), BuildRuleset(b), BuildRuleset(c)};

  ASSERT_TRUE(world().Install(tables[0]).ok());
  Tally leaked(world().router, "ip daddr 203.0.113.99 udp dport 4700");
  UdpStream sender(world().client, "203.0.113.99", 4700);

  auto start = std::chrono::steady_clock::now();
  int failures = 0;
  for (int i = 0; i < kReplacements; ++i) {
    Status s = world().Install(tables[i % 3]);
    if (!s.ok() && ++failures <= 3) ADD_FAILURE() << "install " << i << ": " << s.message();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto totals = sender.Finish();
  ASSERT_TRUE(totals.ok()) << totals.message();

  EXPECT_EQ(failures, 0);
  EXPECT_EQ(leaked.Await(0), 0u);
  EXPECT_EQ(totals.value().taken, 0u) << "the kernel took datagrams it should have refused";
  double rate = static_cast<double>(totals.value().attempts) / totals.value().seconds;
  EXPECT_GE(rate, 20000.0) << "the sender was too slow to prove much";
  std::printf(
      "%d replacements in %.2f s (%.2f ms each); sender tried %llu datagrams in %.2f s "
      "(%.0f/s), the kernel took %llu, the router saw %llu\n",
      kReplacements, seconds, seconds * 1000 / kReplacements,
      static_cast<unsigned long long>(totals.value().attempts), totals.value().seconds, rate,
      static_cast<unsigned long long>(totals.value().taken),
      static_cast<unsigned long long>(leaked.Now()));
}

// The control: the same sender sees the gap of a replacement done in two
// batches (remove, then install), so the zero above means something.
TEST_F(AtomicityTest, TwoBatchReplacementWouldLeak) {
  const Ruleset table = BuildRuleset(TunnelOnly());
  ASSERT_TRUE(world().Install(table).ok());
  Tally leaked(world().router, "ip daddr 203.0.113.99 udp dport 4702");
  UdpStream sender(world().client, "203.0.113.99", 4702);
  // Until a gap let a datagram out (a loaded machine may not run the sender
  // inside the first gaps), at most 2000 times.
  for (int i = 0; i < 2000 && (i % 100 != 99 || leaked.Now() == 0); ++i) {
    ASSERT_TRUE(world().writer().Remove().ok());
    ASSERT_TRUE(world().Install(table).ok());
  }
  auto totals = sender.Finish();
  ASSERT_TRUE(totals.ok()) << totals.message();
  EXPECT_GT(leaked.Await(1), 0u);
  EXPECT_GT(totals.value().taken, 0u);
}

}  // namespace
}  // namespace nmks::world
