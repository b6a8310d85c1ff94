// What a starting guard takes over when its saved state does not say what
// is engaged. Only what the guard itself wrote is trusted: its state file
// and the boot table from its own boot file. A table found without state (a
// root process may have planted one whose "tunnel" is the physical link), a
// state file that cannot be read, or one that is not a regular file (a FIFO
// must not hang the guard) all end in the same place: everything blocked,
// in lockdown, under the connection `adopted`, and `status` says why.
#include <gmock/gmock.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <string>

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

  // A VPN engaged meanwhile (as root, as the plugin and the dispatcher do)
  // adds its tunnel to the placeholder instead of replacing it: when it is
  // released, everything is blocked again.
  Outcome vpn = Cli({"engage", "--connection", "vpn", "--tunnel", "tun0"});
  EXPECT_EQ(vpn.exit_code, 0) << vpn.all();
  EXPECT_EQ(EngagedNow().size(), 2u);
  EXPECT_EQ(Tunneled(5606), 2u);
  EXPECT_EQ(Leaks(5607), 0u);
  Outcome vpn_off = Cli({"release", "--connection", "vpn"});
  EXPECT_EQ(vpn_off.exit_code, 0) << vpn_off.all();
  ExpectBlockEverything(5608);

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

// A FIFO at the state path (or the boot file path) is refused at once: the
// guard starts, blocks everything and says why; --load-boot does not hang
// either and installs the block-everything table.
TEST_F(AdoptTest, FifoAtStatePathDoesNotHang) {
  ASSERT_EQ(mkfifo(files().state_file.c_str(), 0600), 0);
  const auto t0 = std::chrono::steady_clock::now();
  StartGuard();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  Outcome status = Cli({"status"});
  EXPECT_THAT(status.out, HasSubstr("is not a regular file")) << status.all();
  ExpectBlockEverything(5620);
  guard_.reset();

  const std::string boot = dir() / "boot-fifo.nft";
  ASSERT_EQ(mkfifo(boot.c_str(), 0600), 0);
  world::World fresh;
  Outcome load = Execute({.argv = {GuardBinary(), "--load-boot", boot},
                          .netns_fd = fresh.client.fd(),
                          .timeout = 10s});
  EXPECT_EQ(load.exit_code, 1) << "--load-boot hung on a FIFO or failed otherwise: " << load.all();
  EXPECT_THAT(load.err, HasSubstr("is not a regular file"));
  EXPECT_THAT(load.err, HasSubstr("blocking all traffic instead"));
  auto table = world::ReadTableIn(fresh.client);
  ASSERT_TRUE(table.ok()) << table.message();
  Status block_all = CompareTable(BuildBlockAllRuleset(), table.value());
  EXPECT_TRUE(block_all.ok()) << block_all.message();
}

}  // namespace
}  // namespace nmks::guardtest
