// `nm-killswitch verify` claims protection only on evidence from the kill
// switch itself: its table's counters of packets stopped on the way out
// moving while a probe ran (issue 8 item 3). A reset or an ICMP error looks
// the same whether our table made it or the far side sent it after the
// packet got out, so an answered probe with the counters still is a
// failure, as is silence or success.
#include <gmock/gmock.h>

#include <cstdio>

#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;
using testing::Not;

constexpr char kWorks[] = "Result: nothing got out. The kill switch works.";

class VerifyTest : public GuardTest {
 protected:
  void SetUp() override {
    GuardTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    StartGuard();
    Outcome e = Cli({"engage", "--connection", "verify", "--tunnel", "tun0", "--endpoint",
                     "203.0.113.1:51820"});
    ASSERT_EQ(e.exit_code, 0) << e.all();
  }
};

TEST_F(VerifyTest, PassesOnTheKillSwitchsOwnCounters) {
  world::Tally at_router(world().router, "ip saddr 198.51.100.2 ip daddr 192.0.2.0/24");
  Outcome verify = Cli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.all();
  EXPECT_THAT(verify.out, HasSubstr(kWorks));
  EXPECT_THAT(verify.out, HasSubstr("the kill switch's counters went up"));
  EXPECT_THAT(verify.out, Not(HasSubstr("GOT OUT")));
  EXPECT_EQ(at_router.Await(0), 0u) << "a probe reached the router:\n" << verify.out;
}

// The probes run where the table does not filter them (the guard's table
// is whole, as with a dormant table that looks whole): a machine whose link
// leads to a host that answers every probe with a reset or a port
// unreachable. verify must fail, naming why, and not call an answer from
// the network a refusal.
TEST_F(VerifyTest, FailsWhenProbesAreAnsweredFromOutside) {
  world::Netns elsewhere{"e"};
  world::Netns far{"f"};
  elsewhere.Ip("link add eth0 type veth peer name e0 netns " + far.name() +
               "\n"
               "addr add 198.51.100.2/24 dev eth0\n"
               "link set eth0 up\n"
               "route add default via 198.51.100.1\n");
  far.Ip(
      "addr add 198.51.100.1/24 dev e0\n"
      "link set e0 up\n"
      "route add local 192.0.2.0/24 dev lo table local\n");
  world::Tally at_far(far, "ip saddr 198.51.100.2 ip daddr 192.0.2.0/24");
  Outcome verify = CliIn(elsewhere, {"verify"});
  std::printf("%s", verify.out.c_str());
  EXPECT_NE(verify.exit_code, 0) << verify.all();
  EXPECT_THAT(verify.out, HasSubstr("GOT OUT"));
  EXPECT_THAT(verify.out, HasSubstr("the answer came from the network"));
  EXPECT_THAT(verify.out, HasSubstr("the kill switch is NOT protecting this machine"));
  EXPECT_THAT(verify.out, Not(HasSubstr(kWorks)));
  EXPECT_GT(at_far.Await(0), 0u) << "the probes must have reached the far side:\n" << verify.out;
}

}  // namespace
}  // namespace nmks::guardtest
