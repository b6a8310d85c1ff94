// What another root program added to the kill switch's table (possible
// where the table is not owned: the twin, watch mode, an orphan) is gone
// after the next install, which refills a table that is there instead of
// deleting it: its chains, sets and rules, and the objects the engine
// never makes (a table holding one, or a flowtable, is deleted and made
// again; this kernel has no flowtable module to try one).
#include <string>

#include "tests/world/world.h"

namespace nmks::world {
namespace {

class TamperedTest : public KernelTest {
 protected:
  void Add(const std::string& nft) {
    CommandResult added = world().client.Run({"nft", "-f", "-"}, nft);
    ASSERT_TRUE(added.ok()) << nft << added.output;
  }
};

TEST_F(TamperedTest, InstallRemovesWhatAnotherProgramAdded) {
  auto writer = OpenWriter(world().client, Ownership::kUnowned);
  const Ruleset meant = BuildRuleset(TunnelOnly());
  ASSERT_TRUE(writer->Install(meant).ok());
  ASSERT_EQ(Leaks(4910), 0u);

  // A rule, a set, a chain, a policy: refilled in place.
  Add("insert rule inet nm-killswitch output udp dport 4911 accept\n"
      "add chain inet nm-killswitch forward { type filter hook forward priority 0; policy accept; "
      "}\n"
      "table inet nm-killswitch {\n set planted_set { type ipv4_addr; }\n"
      " chain planted_chain {\n  type filter hook output priority -10; policy accept;\n }\n}\n");
  EXPECT_EQ(Leaks(4911), 2u) << "the planted rule lets this port out";
  ASSERT_TRUE(writer->Install(meant).ok());
  EXPECT_EQ(Leaks(4911), 0u);
  std::string listed = ListTable(world().client);
  EXPECT_EQ(listed.find("planted"), std::string::npos) << listed;
  EXPECT_EQ(listed.find("4911"), std::string::npos) << listed;
  EXPECT_EQ(listed.find("policy accept"), std::string::npos) << listed;
  auto refilled = ReadTableIn(world().client);
  ASSERT_TRUE(refilled.ok()) << refilled.message();
  EXPECT_TRUE(CompareTable(meant, refilled.value()).ok());

  // Named objects: the table is made again.
  Add("insert rule inet nm-killswitch output udp dport 4912 accept\n"
      "table inet nm-killswitch {\n counter planted_counter { }\n"
      " quota planted_quota { over 1 mbytes }\n}\n");
  EXPECT_EQ(Leaks(4912), 2u) << "the planted rule lets this port out";
  ASSERT_TRUE(writer->Install(meant).ok());
  EXPECT_EQ(Leaks(4912), 0u);
  listed = ListTable(world().client);
  EXPECT_EQ(listed.find("planted"), std::string::npos) << listed;
  auto state = ReadTableIn(world().client);
  ASSERT_TRUE(state.ok()) << state.message();
  EXPECT_TRUE(CompareTable(meant, state.value()).ok());
  auto handover = ReadTableIn(world().client, kHandoverTableName);
  ASSERT_TRUE(handover.ok()) << handover.message();
  EXPECT_FALSE(handover.value().exists);
}

}  // namespace
}  // namespace nmks::world
