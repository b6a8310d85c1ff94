// One table, one batch: replacing the table empties its chains and sets
// and fills them again in one netlink transaction, so there is no moment
// without the table's rules. An unprivileged sender streams UDP at a
// blocked destination the whole time while the table is replaced over and
// over with different policies; the router must count exactly zero.
#include <chrono>
#include <cstdio>
#include <string>

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

// The same with a table of 20,000 endpoints, whose replacement runs to
// thousands of kernel transactions in one commit.
TEST_F(AtomicityTest, ReplacingALargeTableNeverLetsAPacketThrough) {
  Policy policy = TunnelOnly();
  for (int i = 0; i < 20000; ++i) {
    std::string text =
        "198.51.100." + std::to_string(i % 250 + 1) + ":" + std::to_string(1024 + i / 250) + "/udp";
    policy.endpoints.push_back(Unmarked(text.c_str()));
  }
  Normalize(policy);
  const Ruleset table = BuildRuleset(policy);
  ASSERT_TRUE(world().Install(table).ok());
  Tally leaked(world().router, "ip daddr 203.0.113.99 udp dport 4703");
  UdpStream sender(world().client, "203.0.113.99", 4703);
  for (int i = 0; i < 40; ++i) {
    Status s = world().Install(table);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  auto totals = sender.Finish();
  ASSERT_TRUE(totals.ok()) << totals.message();
  EXPECT_EQ(leaked.Await(0), 0u);
  EXPECT_EQ(totals.value().taken, 0u) << "the kernel took datagrams it should have refused";
}

// A firewall that reloads after the kill switch (as ufw or firewalld do)
// hooks its output chain at the same priority ahead of the kill switch's,
// and a replacement that made the kill switch's chains again would hook
// them ahead of that: the firewall's chain lies between the old chain and
// the new one. Its slow chain (2,000 rules) keeps each datagram there for
// a while. Without the kill switch's table it lets everything through.
class ReloadingFirewall {
 public:
  explicit ReloadingFirewall(const Netns& ns) : ns_(ns) {
    std::string slow = "table inet nmks-test-fw {\n chain slow {\n";
    for (int i = 0; i < 2000; ++i) {
      slow += "  ip daddr 192.0.2.200 udp dport " + std::to_string(i + 1) + " counter\n";
    }
    slow += " }\n}\n";
    Load(slow);
  }
  // Hooks its output chain again, ahead of every chain of its priority.
  void Reload() const {
    Load(
        "table inet nmks-test-fw {\n chain output {\n  type filter hook output priority 0;\n }\n}\n"
        "delete chain inet nmks-test-fw output\n"
        "table inet nmks-test-fw {\n chain output {\n"
        "  type filter hook output priority 0; policy accept;\n  jump slow\n }\n}\n");
  }

 private:
  void Load(const std::string& text) const {
    CommandResult loaded = ns_.Run({"nft", "-f", "-"}, text);
    EXPECT_TRUE(loaded.ok()) << loaded.output;
  }
  const Netns& ns_;
};

void ExpectNoneThrough(const char* what, Tally& leaked, UdpStream& sender) {
  auto totals = sender.Finish();
  ASSERT_TRUE(totals.ok()) << totals.message();
  EXPECT_EQ(leaked.Await(0), 0u);
  EXPECT_EQ(totals.value().taken, 0u) << "the kernel took datagrams it should have refused";
  std::printf("%s: the sender tried %llu datagrams, the kernel took %llu, the router saw %llu\n",
              what, static_cast<unsigned long long>(totals.value().attempts),
              static_cast<unsigned long long>(totals.value().taken),
              static_cast<unsigned long long>(leaked.Now()));
}

// The kill switch's table replaced 100 times, the firewall reloaded before
// each: a replacement that unhooked the old chains and hooked new ones let
// 36 datagrams through here; one that keeps them lets none.
TEST_F(AtomicityTest, ReplacingTheTableBesideAnotherFirewallNeverLetsAPacketThrough) {
  ReloadingFirewall firewall(world().client);
  const Ruleset table = BuildRuleset(TunnelOnly());
  ASSERT_TRUE(world().Install(table).ok());
  Tally leaked(world().router, "ip daddr 203.0.113.99 udp dport 4704");
  UdpStream sender(world().client, "203.0.113.99", 4704);
  for (int i = 0; i < 100; ++i) {
    firewall.Reload();
    Status s = world().Install(table);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  ExpectNoneThrough("100 replacements beside a reloading firewall", leaked, sender);
}

// A table whose flags cannot change in place is deleted and made again
// (an owner taking over the unowned table of a boot loader, an unowned
// writer taking over an orphaned PERSIST table), with a handover table
// blocking meanwhile; an owner adopts an orphaned PERSIST table in place.
// Here each, 20 times, beside the firewall. With an empty handover table
// 9 datagrams got through.
TEST_F(AtomicityTest, TakingOverATableWhoseFlagsMustChangeNeverLetsAPacketThrough) {
  ReloadingFirewall firewall(world().client);
  const Ruleset table = BuildRuleset(TunnelOnly());
  auto unowned = OpenWriter(world().client, Ownership::kUnowned);
  ASSERT_TRUE(unowned->Install(table).ok());
  Tally leaked(world().router, "ip daddr 203.0.113.99 udp dport 4705");
  UdpStream sender(world().client, "203.0.113.99", 4705);
  for (int i = 0; i < 20; ++i) {
    firewall.Reload();
    for (int owners = 0; owners < 2; ++owners) {
      auto owner = OpenWriter(world().client, Ownership::kOwned);
      Status s = owner->Install(table);  // checked: owned by `owner`
      ASSERT_TRUE(s.ok()) << s.message();
      firewall.Reload();
    }  // each one's socket closes: the table stays, an orphan
    Status s = unowned->Install(table);
    ASSERT_TRUE(s.ok()) << s.message();
  }
  auto handover = ReadTableIn(world().client, kHandoverTableName);
  ASSERT_TRUE(handover.ok()) << handover.message();
  EXPECT_FALSE(handover.value().exists) << "the handover table was left behind";
  ExpectNoneThrough("60 takeovers beside a reloading firewall", leaked, sender);
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
