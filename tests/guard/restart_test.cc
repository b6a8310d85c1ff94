// What is engaged survives a guard restart: the state file brings back every
// connection with its own policy and mode, and the restarted guard takes the
// same table over without a moment of open traffic. ReleaseAll then lets
// traffic out.
#include <gmock/gmock.h>
#include <sys/stat.h>

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
