// `nm-killswitch status` tells what the kernel holds, not only what the
// guard engaged: while a table of our name is in the kernel it never says
// that traffic is not blocked.
#include <gmock/gmock.h>

#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;
using testing::Not;

// A kill-switch table the guard did not engage (an engage whose read-back
// failed leaves one; so can another program): status must not say that
// traffic is not blocked while it is.
class StatusTruthTest : public GuardTest {};

TEST_F(StatusTruthTest, NeverNotBlockedWhileATableIsInTheKernel) {
  StartGuard();
  ASSERT_EQ(Leaks(5310), 2u);
  world::CommandResult planted = world().client.Run(
      {"nft", "-f", "-"},
      "table inet nm-killswitch {\n"
      "  chain output { type filter hook output priority filter; policy drop; oif lo accept; }\n"
      "}\n");
  ASSERT_TRUE(planted.ok()) << planted.output;
  ASSERT_EQ(Leaks(5311), 0u);
  Outcome status = Cli({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, Not(HasSubstr("Traffic is not blocked")));
  EXPECT_THAT(status.out, HasSubstr("Kill switch: not engaged, but its table is in the kernel"));
  EXPECT_THAT(status.out, HasSubstr("release --all"));
  Outcome release = Cli({"release", "--all"});
  EXPECT_EQ(release.exit_code, 0) << release.all();
  EXPECT_EQ(Leaks(5312), 2u) << "release --all removes the table";
  status = Cli({"status"});
  EXPECT_THAT(status.out, HasSubstr("Kill switch: not engaged. Traffic is not blocked."));
}

}  // namespace
}  // namespace nmks::guardtest
