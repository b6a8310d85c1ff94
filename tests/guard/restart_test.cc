// What is engaged survives a guard restart: the state file brings back every
// connection with its own policy and mode, and the restarted guard takes the
// same table over without a moment of open traffic. ReleaseAll then lets
// traffic out.
#include <gmock/gmock.h>
#include <sys/stat.h>

#include <string>

#include "rules/nft_text.h"
#include "rules/table_codec.h"
#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

using RestartTest = GuardTest;

TEST_F(RestartTest, TwoConnectionsKeepTheirModesAndTheTable) {
  StartGuard();
  Outcome office = Cli({"engage", "--connection", "office", "--mode", "lockdown", "--tunnel",
                        "tun0", "--endpoint", "203.0.113.1:51820", "--mark", "0x6b73"});
  ASSERT_EQ(office.exit_code, 0) << office.all();
  Outcome home = Cli({"engage", "--connection", "home", "--tunnel", "wg1", "--endpoint",
                      "[2001:db8:ff::1]:443/tcp", "--allow-lan", "--ipv6", "tunnel"});
  ASSERT_EQ(home.exit_code, 0) << home.all();

  const Engagements engaged = EngagedNow();
  ASSERT_EQ(engaged.size(), 2u);
  EXPECT_EQ(engaged.at("office").mode, Mode::kLockdown);
  EXPECT_EQ(engaged.at("home").mode, Mode::kOn);
  EXPECT_TRUE(engaged.at("home").allow_lan);
  const TableState table = Table();
  ASSERT_TRUE(table.exists);
  Status exact = CompareTable(BuildRuleset(Merge(engaged)), table);
  EXPECT_TRUE(exact.ok()) << exact.message();
  EXPECT_EQ(Leaks(5300), 0u);

  // A clean stop (SIGTERM, as systemd does) leaves the table as it is.
  EXPECT_EQ(guard().Stop(), 0) << guard().log();
  Status kept = CompareTable(WithoutCounts(table.ruleset), Table());
  EXPECT_TRUE(kept.ok()) << kept.message();
  EXPECT_EQ(Leaks(5301), 0u) << "nothing may leak while no guard runs";

  StartGuard();
  EXPECT_EQ(EngagedNow(), engaged) << "the restarted guard must hold the same connections";
  Status same = SameTable(table, Table());
  EXPECT_TRUE(same.ok()) << same.message();
  Outcome status = Cli({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, HasSubstr("  home\n    tunnels:   wg1\n"));
  EXPECT_THAT(status.out, HasSubstr("  office\n    tunnels:   tun0\n"));
  EXPECT_THAT(status.out, HasSubstr("mode: lockdown; local network: blocked"));
  EXPECT_THAT(status.out, HasSubstr("mode: on; local network: allowed; IPv6: through the tunnel"));
  EXPECT_THAT(status.out, HasSubstr("(only from the VPN itself, fwmark 0x6b73)"));
  Outcome verify = Cli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.all();
  EXPECT_EQ(Leaks(5302), 0u);
  EXPECT_EQ(Tunneled(5303), 2u);

  Outcome release = Cli({"release", "--all"});
  EXPECT_EQ(release.exit_code, 0) << release.all();
  EXPECT_THAT(release.out, HasSubstr("Kill switch released"));
  EXPECT_FALSE(Table().exists);
  EXPECT_TRUE(EngagedNow().empty());
  EXPECT_EQ(Leaks(5304), 2u) << "after release --all traffic must reach the router";
  struct stat st {};
  EXPECT_NE(stat(files().state_file.c_str(), &st), 0) << "the state file must go with the table";

  // Released stays released across a restart.
  EXPECT_EQ(guard().Stop(), 0) << guard().log();
  StartGuard();
  EXPECT_TRUE(EngagedNow().empty());
  EXPECT_FALSE(Table().exists);
  EXPECT_EQ(Leaks(5305), 2u);
}

// An upgrade restarts the guard over the table an earlier version laid
// out: then `input` had its own copy of every endpoint tuple (sets
// endpoints4/6), now it looks in unmarked4/6 like `output`. The new guard
// replaces the old table with its own in one batch and nothing leaks.
TEST_F(RestartTest, TableOfAnEarlierShapeIsReplacedAfterAnUpgrade) {
  StartGuard();
  Outcome vpn = Cli({"engage", "--connection", "vpn", "--tunnel", "tun0", "--endpoint",
                     "203.0.113.1:51820", "--endpoint", "[2001:db8:ff::1]:443/tcp"});
  ASSERT_EQ(vpn.exit_code, 0) << vpn.all();
  const Engagements engaged = EngagedNow();
  EXPECT_EQ(guard().Stop(), 0) << guard().log();

  // The earlier shape, made from today's text: endpoints4/6 hold what
  // unmarked4/6 hold (no endpoint is marked), input looks only there.
  std::string old = RenderNft(BuildRuleset(Merge(engaged)));
  auto cut = [&old](const std::string& from, const std::string& to) {
    size_t at = old.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    size_t end = old.find(to, at);
    ASSERT_NE(end, std::string::npos) << to;
    old.erase(at, end + to.size() - at);
  };
  cut("\tset marked_in4 {", "}\n\n");
  cut("\tset marked_in6 {", "}\n\n");
  cut("\t\tip saddr . meta l4proto . th sport @marked_in4", "\n");
  cut("\t\tip6 saddr . meta l4proto . th sport @marked_in6", "\n");
  for (const char* family : {"4", "6"}) {
    const std::string name = std::string("unmarked") + family;
    size_t at = old.find("\tset " + name + " {");
    ASSERT_NE(at, std::string::npos);
    std::string set = old.substr(at, old.find("}\n\n", at) + 3 - at);
    old.insert(at, "\tset endpoints" + std::string(family) + set.substr(set.find(" {")));
    size_t rule = old.find("th sport @" + name);
    ASSERT_NE(rule, std::string::npos);
    old.replace(rule, 10 + name.size(), "th sport @endpoints" + std::string(family));
  }
  world::CommandResult nft =
      world().client.Run({"nft", "-f", "-"}, "delete table inet nm-killswitch\n" + old);
  ASSERT_TRUE(nft.ok()) << nft.output << old;
  ASSERT_FALSE(CompareTable(BuildRuleset(Merge(engaged)), Table()).ok());
  EXPECT_EQ(Leaks(5310), 0u);

  StartGuard();
  EXPECT_EQ(EngagedNow(), engaged);
  Status now = CompareTable(BuildRuleset(Merge(engaged)), Table());
  EXPECT_TRUE(now.ok()) << now.message();
  EXPECT_EQ(Leaks(5311), 0u);
  EXPECT_EQ(Tunneled(5312), 2u);
}

// The dispatcher hook's fail-closed engagement: a VPN whose interface
// NetworkManager does not name is engaged with no tunnel on purpose. Only its
// server gets out, not even through tun0; it survives a restart; `status`
// says there is no tunnel.
TEST_F(RestartTest, NoTunnelOnPurposeBlocksTheTunnelTooAndSurvivesARestart) {
  StartGuard();
  Policy p;
  p.no_tunnel = true;
  p.endpoints = {Endpoint::Parse("203.0.113.1:1194").value()};
  Reply r = CallGuard(bus().connection(), "Engage",
                      g_variant_new("(s@a{sv})", "office", PolicyToVariant(p)));
  ASSERT_TRUE(r.ok()) << r.error << guard().log();
  const Engagements engaged = EngagedNow();
  ASSERT_EQ(engaged.size(), 1u);
  EXPECT_TRUE(engaged.at("office").no_tunnel);
  EXPECT_TRUE(engaged.at("office").tunnels.empty());
  Status exact = CompareTable(BuildRuleset(Merge(engaged)), Table());
  EXPECT_TRUE(exact.ok()) << exact.message();
  EXPECT_EQ(Leaks(5310), 0u);
  EXPECT_EQ(Tunneled(5311), 0u) << "no tunnel is allowed";

  EXPECT_EQ(guard().Stop(), 0) << guard().log();
  StartGuard();
  EXPECT_EQ(EngagedNow(), engaged) << "the restarted guard must hold it as it was";
  Outcome status = Cli({"status"});
  EXPECT_THAT(status.out, HasSubstr("  office\n    tunnels:   (none)\n")) << status.all();
  EXPECT_EQ(Leaks(5312), 0u);

  // Without no-tunnel, a policy without a tunnel is still refused.
  p.no_tunnel = false;
  Reply refused = CallGuard(bus().connection(), "Engage",
                            g_variant_new("(s@a{sv})", "home", PolicyToVariant(p)));
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.error, HasSubstr("names no tunnel interface"));

  Outcome release = Cli({"release", "--all"});
  EXPECT_EQ(release.exit_code, 0) << release.all();
  EXPECT_EQ(Leaks(5313), 2u);
}

}  // namespace
}  // namespace nmks::guardtest
