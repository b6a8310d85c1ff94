// Who may change the table. Owned (OWNER | PERSIST, what the guard uses):
// while its writer's socket is open nobody else, root included, can flush
// or delete the table; when the socket closes the table stays and keeps
// blocking until a new writer adopts it. Unowned (the fallback on older
// kernels): anyone root can delete it, which the guard's watcher repairs.
#include "rules/table_codec.h"
#include "tests/world/world.h"

namespace nmks::world {
namespace {

class OwnershipTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto keeps = [this] {
      NetnsScope in(world().client);
      return KernelKeepsOwnedTables();
    }();
    ASSERT_TRUE(keeps.ok()) << keeps.message();
    if (!keeps.value()) {
      if (InCi()) FAIL() << "CI's kernel must keep owned tables (Linux >= 6.9)";
      GTEST_SKIP() << "this kernel has no owned, persistent nftables tables";
    }
  }
  // Ok if the client's table is exactly `policy`'s.
  Status HoldsTable(const Policy& policy) {
    auto state = ReadTableIn(world().client);
    if (!state.ok()) return state.status();
    return CompareTable(BuildRuleset(policy), state.value());
  }
};

TEST_F(OwnershipTest, OwnedTableSurvivesFlushAndDelete) {
  Policy policy = TunnelOnly();
  auto owner = OpenWriter(world().client, Ownership::kOwned);
  ASSERT_TRUE(owner->Install(BuildRuleset(policy)).ok());
  ASSERT_EQ(Leaks(4600), 0u);

  CommandResult flush = world().client.Run({"nft", "flush", "ruleset"});
  EXPECT_TRUE(HoldsTable(policy).ok()) << "after nft flush ruleset: " << flush.output;
  CommandResult del = world().client.Run({"nft", "delete", "table", "inet", kTableName});
  EXPECT_FALSE(del.ok()) << "root must not be able to delete an owned table";
  EXPECT_TRUE(HoldsTable(policy).ok());
  CommandResult add =
      world().client.Run({"nft", "add", "rule", "inet", kTableName, "output", "accept"});
  EXPECT_FALSE(add.ok()) << "nor add a rule to it";
  EXPECT_TRUE(HoldsTable(policy).ok());
  EXPECT_EQ(Leaks(4601), 0u);
}

// A second writer (a second guard) cannot take the table from the first.
TEST_F(OwnershipTest, SecondOwnerIsRefused) {
  Policy first = TunnelOnly();
  auto owner = OpenWriter(world().client, Ownership::kOwned);
  ASSERT_TRUE(owner->Install(BuildRuleset(first)).ok());
  auto intruder = OpenWriter(world().client, Ownership::kOwned);
  Policy open = TunnelOnly("eth0");  // would let everything out of eth0
  Status s = intruder->Install(BuildRuleset(open));
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(intruder->Remove().ok());
  EXPECT_TRUE(HoldsTable(first).ok());
  EXPECT_EQ(Leaks(4602), 0u);
}

// The guard dies: the table stays and blocks. A restarted guard adopts it
// and can release it; then traffic flows.
TEST_F(OwnershipTest, OrphanedTableBlocksUntilAdoptedAndRemoved) {
  Policy policy = TunnelOnly();
  {
    auto owner = OpenWriter(world().client, Ownership::kOwned);
    ASSERT_TRUE(owner->Install(BuildRuleset(policy)).ok());
  }  // socket closed
  EXPECT_TRUE(HoldsTable(policy).ok());
  EXPECT_EQ(Leaks(4603), 0u);

  auto adopter = OpenWriter(world().client, Ownership::kOwned);
  Policy next = TunnelOnly("wg0");
  Status adopted = adopter->Install(BuildRuleset(next));
  ASSERT_TRUE(adopted.ok()) << adopted.message();
  EXPECT_TRUE(HoldsTable(next).ok());
  EXPECT_EQ(Leaks(4604), 0u);
  // Adopted means owned again: others are locked out.
  EXPECT_FALSE(world().client.Run({"nft", "delete", "table", "inet", kTableName}).ok());

  Status removed = adopter->Remove();
  ASSERT_TRUE(removed.ok()) << removed.message();
  EXPECT_EQ(ListTable(world().client), "");
  EXPECT_EQ(Leaks(4605), 2u);
}

// How the kernel treats an orphaned table: it keeps blocking, but it has
// no owner any more (flags PERSIST, owner 0), so a firewall reload's
// `nft flush ruleset` removes it until a guard adopts it again. The guard's
// watcher (or a quick restart) must cover that gap even on kernels with PERSIST.
TEST_F(OwnershipTest, OrphanedTableIsNotProtected) {
  {
    auto owner = OpenWriter(world().client, Ownership::kOwned);
    ASSERT_TRUE(owner->Install(BuildRuleset(TunnelOnly())).ok());
  }
  auto state = ReadTableIn(world().client);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state.value().flags, kTableFlagPersist);
  EXPECT_EQ(state.value().owner, 0u);
  CommandResult flush = world().client.Run({"nft", "flush", "ruleset"});
  EXPECT_TRUE(flush.ok()) << flush.output;
  EXPECT_EQ(ListTable(world().client), "");
  EXPECT_EQ(Leaks(4606), 2u);
}

TEST_F(OwnershipTest, UnownedTableCanBeDeletedByRoot) {
  auto writer = OpenWriter(world().client, Ownership::kUnowned);
  ASSERT_TRUE(writer->Install(BuildRuleset(TunnelOnly())).ok());
  ASSERT_EQ(Leaks(4607), 0u);
  CommandResult del = world().client.Run({"nft", "delete", "table", "inet", kTableName});
  EXPECT_TRUE(del.ok()) << del.output;
  EXPECT_EQ(ListTable(world().client), "");
  EXPECT_EQ(Leaks(4608), 2u);
}

}  // namespace
}  // namespace nmks::world
