// Blocking at boot. The guard writes the boot ruleset file; on a fresh
// machine (a new World) with traffic already running, `nm-killswitch-guard
// --load-boot FILE` (what nm-killswitch-boot.service runs) stops everything
// outside the tunnel before any guard exists, and a guard started later
// without saved state adopts that table. A file that cannot be used still
// blocks: everything.
#include <gmock/gmock.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "rules/table_codec.h"
#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

constexpr uint32_t kOwned = kTableFlagOwner | kTableFlagPersist;

class BootTest : public GuardTest {
 protected:
  Outcome LoadBoot(const world::Netns& ns, const std::string& file,
                   const std::string& state_file = "") {
    Spawn spawn{.argv = {GuardBinary(), "--load-boot", file}, .netns_fd = ns.fd()};
    if (!state_file.empty()) spawn.argv.insert(spawn.argv.end(), {"--state-file", state_file});
    return Execute(spawn);
  }
};

TEST_F(BootTest, BootFileIsWrittenLoadedFirstAndAdopted) {
  StartGuard();
  Outcome e = Cli({"engage", "--connection", "boot", "--tunnel", "tun0", "--endpoint",
                   "203.0.113.1:51820", "--block-at-boot"});
  ASSERT_EQ(e.exit_code, 0) << e.all();
  const std::string file = files().boot_file;
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0) << "--block-at-boot wrote no " << file;
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  const std::string content = ReadFile(file);
  EXPECT_THAT(content, HasSubstr("\n# policy: {'boot': {"));
  EXPECT_THAT(content, HasSubstr("table inet nm-killswitch {"));
  EXPECT_THAT(Cli({"status"}).out, HasSubstr("Blocked at boot for: boot"));

  // `boot off` removes the file, `boot on` writes the same one again.
  Outcome off = Cli({"boot", "off"});
  EXPECT_EQ(off.exit_code, 0) << off.all();
  EXPECT_NE(stat(file.c_str(), &st), 0) << "boot off left " << file;
  Outcome on = Cli({"boot", "on"});
  EXPECT_EQ(on.exit_code, 0) << on.all();
  EXPECT_EQ(ReadFile(file), content);
  const TableState engaged = Table();
  guard_.reset();  // this machine is done; the next one boots with the file

  // A fresh machine: traffic first, then the boot loader.
  world::World fresh;
  fresh.RouteViaTunnel(kInTunnel);
  world::Tally outside(fresh.router, std::string("ip daddr ") + kOutside + " udp dport 5400");
  world::Tally tunneled(fresh.vpn, std::string("ip daddr ") + kInTunnel + " udp dport 5401");
  PacedUdp leak(fresh.client, kOutside, 5400);
  PacedUdp vpn(fresh.client, kInTunnel, 5401);
  EXPECT_GT(outside.Await(20), 0u) << "before the boot table traffic must flow";
  EXPECT_GT(tunneled.Await(20), 0u);

  Outcome load = LoadBoot(fresh.client, file);
  EXPECT_EQ(load.exit_code, 0) << load.all();
  EXPECT_THAT(load.err, HasSubstr("boot ruleset loaded from " + file + ": 1 connection(s)"));
  std::this_thread::sleep_for(50ms);  // packets already on the wire land
  const uint64_t outside_at_load = outside.Now();
  const uint64_t tunneled_at_load = tunneled.Now();
  std::this_thread::sleep_for(700ms);
  EXPECT_EQ(outside.Now(), outside_at_load) << "packets got out around the tunnel after boot";
  EXPECT_GT(tunneled.Now(), tunneled_at_load + 50) << "traffic through the tunnel must flow";
  vpn.Finish();
  PacedUdp::Totals leak_totals = leak.Finish();
  EXPECT_GT(leak_totals.attempts, leak_totals.taken) << "the kernel must refuse the sends";

  const TableState booted = TableIn(fresh.client);
  ASSERT_TRUE(booted.exists);
  Status same = CompareTable(WithoutCounts(engaged.ruleset), booted);
  EXPECT_TRUE(same.ok()) << "the boot table differs from the engaged one: " << same.message();

  // The guard starts later, with no saved state: it adopts the boot table.
  guard_ = std::make_unique<GuardProcess>(
      fresh.client, bus(), GuardFiles{dir() / "fresh-state", file}, "auto", guard_log());
  Engagements adopted = EngagedNow();
  EXPECT_EQ(adopted.size(), 1u);
  EXPECT_EQ(adopted.count("boot"), 1u);
  Outcome status = CliIn(fresh.client, {"status"});
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, HasSubstr("Kill switch: engaged"));
  EXPECT_THAT(status.out, HasSubstr("\n  boot\n"));
  EXPECT_THAT(status.out, HasSubstr("owned by the guard"));
  EXPECT_THAT(status.out, testing::Not(HasSubstr("WARNING")));
  const TableState owned = TableIn(fresh.client);
  EXPECT_EQ(owned.flags & kOwned, kOwned);
  EXPECT_NE(fresh.client.Run({"nft", "delete", "table", "inet", kTableName}).exit_code, 0);
  EXPECT_TRUE(TableIn(fresh.client).exists);
  EXPECT_EQ(CliIn(fresh.client, {"verify"}).exit_code, 0);
  guard_.reset();  // before `fresh` goes
}

// nftables.service (or any program) flushes the ruleset between the boot
// loader and the guard's start: the loader saved the boot connections as
// engaged, so the guard engages them again instead of starting with nothing.
TEST_F(BootTest, AFlushBeforeTheGuardStartsIsUndoneFromTheSavedState) {
  StartGuard();
  Outcome e = Cli({"engage", "--connection", "boot", "--tunnel", "tun0", "--endpoint",
                   "203.0.113.1:51820", "--block-at-boot"});
  ASSERT_EQ(e.exit_code, 0) << e.all();
  ASSERT_EQ(Cli({"release", "--all"}).exit_code, 0);
  guard_.reset();
  ASSERT_FALSE(Table().exists);
  ASSERT_EQ(Leaks(5420), 2u);

  const std::string state = dir() / "boot-run/state";  // the loader makes the directory
  Outcome load = LoadBoot(world().client, files().boot_file, state);
  ASSERT_EQ(load.exit_code, 0) << load.all();
  EXPECT_EQ(Leaks(5421), 0u);
  world().client.Run({"nft", "flush", "ruleset"});
  ASSERT_FALSE(Table().exists) << "the boot table is not owned: a flush removes it";

  guard_ = std::make_unique<GuardProcess>(world().client, bus(), GuardFiles{state, files().boot_file},
                                          "auto", guard_log());
  EXPECT_TRUE(Table().exists) << "the guard must engage the boot connections from the state";
  EXPECT_EQ(EngagedNow().count("boot"), 1u);
  EXPECT_EQ(Leaks(5422), 0u);
  EXPECT_EQ(Tunneled(5423), 2u);
}

TEST_F(BootTest, UnusableBootFileBlocksEverything) {
  ASSERT_EQ(Leaks(5410), 2u);
  ASSERT_EQ(Tunneled(5411), 2u);
  struct Case {
    const char* what;
    const char* content;  // nullptr: no file at all
    const char* why;
  };
  const Case cases[] = {
      {"corrupt policy line", "# policy: {'boot': {'tunnels': <['tun0'\n", "cannot be read"},
      {"no policy line", "table inet nm-killswitch {\n}\n", "has no policy line"},
      {"no connection", "# policy: @a{sa{sv}} {}\n", "engages no connection"},
      {"bad tunnel name", "# policy: {'boot': {'tunnels': <['a/b']>}}\n", "'/'"},
      {"missing file", nullptr, "cannot be used"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string file = dir() / "boot-bad.nft";
    std::remove(file.c_str());
    if (c.content) WriteFile(file, c.content, 0600);
    Outcome load = LoadBoot(world().client, file);
    EXPECT_NE(load.exit_code, 0) << load.all();
    EXPECT_THAT(load.err, HasSubstr("cannot be used"));
    EXPECT_THAT(load.err, HasSubstr(c.why));
    EXPECT_THAT(load.err, HasSubstr("blocking all traffic instead"));
    const TableState state = Table();
    Status block_all = CompareTable(BuildBlockAllRuleset(), state);
    EXPECT_TRUE(block_all.ok()) << block_all.message();
    EXPECT_EQ(Leaks(5412), 0u);
    EXPECT_EQ(Tunneled(5413), 0u) << "with no usable policy even the tunnel is blocked";
  }
}

}  // namespace
}  // namespace nmks::guardtest
