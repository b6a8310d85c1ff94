// What a starting guard takes over when its saved state does not say what
// is engaged. Only what the guard itself wrote is trusted: its state file
// and the boot table from its own boot file. A table found without state (a
// root process may have planted one whose "tunnel" is the physical link)
// or a state file that cannot be read end in everything blocked, in lockdown, under the connection `adopted`,
// and `status` says why.
#include <gmock/gmock.h>

#include "rules/nft_text.h"
#include "rules/table_codec.h"
#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

class AdoptTest : public GuardTest {
 protected:
  // The guard holds exactly the block-everything placeholder, the kernel
  // has its table, and nothing gets out: not around the tunnel, not
  // through it.
  void ExpectBlockEverything(uint16_t port) {
    Engagements engaged = EngagedNow();
    ASSERT_EQ(engaged.size(), 1u);
    ASSERT_EQ(engaged.count("adopted"), 1u);
    const Policy& p = engaged.at("adopted");
    EXPECT_EQ(p.mode, Mode::kLockdown);
    EXPECT_TRUE(p.tunnels.empty());
    EXPECT_TRUE(p.endpoints.empty());
    EXPECT_FALSE(p.allow_lan);
    Status block_all = CompareTable(BuildBlockAllRuleset(), Table());
    EXPECT_TRUE(block_all.ok()) << block_all.message();
    EXPECT_EQ(Leaks(port), 0u) << "traffic got out around the tunnel";
    EXPECT_EQ(Tunneled(static_cast<uint16_t>(port + 1)), 0u)
        << "an untrusted table's tunnel must not be allowed either";
  }
};

// A root process plants `table inet nm-killswitch` while no guard runs and
// no state exists; its tunnels set holds the physical NIC, so it lets
// everything out. The guard must not adopt those tunnels.
TEST_F(AdoptTest, PlantedTableIsNotTrusted) {
  Policy planted;
  planted.tunnels = {"eth0", "tun0"};
  planted.endpoints = {Endpoint::Parse("203.0.113.99:5600").value()};
  planted.mode = Mode::kLockdown;
  world::CommandResult nft =
      world().client.Run({"nft", "-f", "-"}, RenderNft(BuildRuleset(planted)));
  ASSERT_TRUE(nft.ok()) << nft.output;
  ASSERT_TRUE(Table().exists);
  ASSERT_EQ(Leaks(5600), 2u) << "the planted table must let traffic out (else the test proves "
                                "nothing)";

  StartGuard();
  ExpectBlockEverything(5601);
  Outcome status = Cli({"status"});
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, HasSubstr("WARNING: a kill-switch table was found without saved state; "
                                    "its tunnels and endpoints are not trusted"));
  EXPECT_THAT(status.out, HasSubstr("\n  adopted\n"));
  EXPECT_THAT(guard().log(), HasSubstr("not trusted"));

  // A restarted guard keeps it (it is in the state now), and the table
  // stays blocking.
  EXPECT_EQ(guard().Stop(), 0);
  StartGuard();
  ExpectBlockEverything(5603);

  // Only an administrator's release lets traffic out again.
  Outcome release = Cli({"release", "--connection", "adopted"});
  EXPECT_EQ(release.exit_code, 0) << release.all();
  EXPECT_FALSE(Table().exists);
  EXPECT_EQ(Leaks(5605), 2u);
}

// A state file that cannot be parsed, with no table in the kernel (after a
// reboot without block-at-boot, or the table flushed while the guard was
// down): the guard cannot know what was engaged, so it blocks everything.
TEST_F(AdoptTest, DamagedStateWithoutTableBlocksEverything) {
  ASSERT_FALSE(Table().exists);
  WriteFile(files().state_file, "nm-killswitch state 1\n\x01\x02garbage", 0600);
  StartGuard();
  ExpectBlockEverything(5610);
  Outcome status = Cli({"status"});
  EXPECT_THAT(status.out, HasSubstr("WARNING: the saved state cannot be read")) << status.all();
  EXPECT_THAT(status.out, HasSubstr("everything is blocked (lockdown)")) << status.all();
}

}  // namespace
}  // namespace nmks::guardtest
