// A table that is in the kernel but does not filter is not the kill switch's
// table: `nft add table inet nm-killswitch '{ flags dormant; }'` unhooks
// every chain and lets everything out, so the read-back must call it a
// difference (issue 8 item 2), and installing again must wake it.
#include <string>

#include "rules/table_codec.h"
#include "tests/world/world.h"

namespace nmks::world {
namespace {

class DormantTest : public KernelTest {};

TEST_F(DormantTest, ADormantTableDiffersAndInstallWakesIt) {
  auto writer = OpenWriter(world().client, Ownership::kUnowned);
  const Ruleset meant = BuildRuleset(TunnelOnly());
  ASSERT_TRUE(writer->Install(meant).ok());
  ASSERT_EQ(Leaks(4900), 0u);

  CommandResult dormant =
      world().client.Run({"nft", "add", "table", "inet", kTableName, "{ flags dormant; }"});
  ASSERT_TRUE(dormant.ok()) << dormant.output;
  EXPECT_EQ(Leaks(4901), 2u) << "a dormant table filters nothing";
  auto state = ReadTableIn(world().client);
  ASSERT_TRUE(state.ok()) << state.message();
  EXPECT_EQ(state.value().flags & kTableFlagDormant, kTableFlagDormant);
  Status same = CompareTable(meant, state.value());
  EXPECT_FALSE(same.ok()) << "the rules are all there, but the table is dormant";
  EXPECT_NE(same.message().find("dormant"), std::string::npos) << same.message();

  Status reinstalled = writer->Install(meant);
  ASSERT_TRUE(reinstalled.ok()) << reinstalled.message();
  state = ReadTableIn(world().client);
  ASSERT_TRUE(state.ok()) << state.message();
  EXPECT_EQ(state.value().flags, 0u);
  EXPECT_TRUE(CompareTable(meant, state.value()).ok());
  EXPECT_EQ(Leaks(4902), 0u);

  // Data on the table (a comment) that the kill switch never writes.
  TableState commented = state.value();
  commented.userdata = {0x00, 0x02, 'x', 0x00};
  EXPECT_FALSE(CompareTable(meant, commented).ok());
}

}  // namespace
}  // namespace nmks::world
