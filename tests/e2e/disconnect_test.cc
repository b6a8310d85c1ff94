// The user's endings (DESIGN.md, Lifecycle). Switching the VPN off with
// kill-switch=on releases the kill switch: traffic flows directly. With
// kill-switch=lockdown it keeps blocking until an administrator runs
// `nm-killswitch release`. Deleting the profile while it is active is the
// user switching it off too (NetworkManager reports USER_DISCONNECTED, the
// deactivation reason CONNECTION_REMOVED tells it apart): released in mode
// on, still blocking in lockdown, where only an administrator releases it.
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/e2e/e2e.h"

namespace nmks::nmworld {
namespace {

class DisconnectTest : public ConnectedTest {
 protected:
  void ExpectReleased() {
    EXPECT_TRUE(FlowsDirectly(50, 5)) << w().Logs();
    EXPECT_FALSE(w().TableInKernel());
    auto status = w().Killswitch({"status"});
    EXPECT_TRUE(Contains(status.output, kNotEngaged)) << status.output;
  }
  void ExpectStillBlocking() {
    sleep(3);
    EXPECT_EQ(Leaked(), 0u) << w().Logs();
    auto status = w().Killswitch({"status"});
    EXPECT_TRUE(Contains(status.output, kEngaged)) << status.output;
    EXPECT_TRUE(Contains(status.output, uuid_)) << status.output;
    EXPECT_TRUE(Contains(status.output, "mode: lockdown")) << status.output;
  }
  // An administrator lets traffic out again.
  void ReleaseAll() {
    auto release = w().Killswitch({"release", "--all"});
    ASSERT_TRUE(release.ok()) << release.output;
    ExpectReleased();
  }
  void SetUp() override {
    ConnectedTest::SetUp();
    if (world_) uuid_ = w().VpnUuid();
  }
  std::string uuid_;
};

TEST_F(DisconnectTest, ProfileDeletedWhileActiveReleases) {
  auto del = w().Nmcli({"connection", "delete", "wg0"});
  ASSERT_TRUE(del.ok()) << del.output;
  ExpectReleased();
  EXPECT_TRUE(Contains(w().NmLog(), uuid_ + ": profile deleted; kill switch released")) << w().Logs();
}

class LockdownDisconnectTest : public DisconnectTest {
  void Configure(Options& o) override { o.kill_switch = "lockdown"; }
};

TEST_F(LockdownDisconnectTest, UserOffKeepsBlockingUntilAnAdministratorReleases) {
  auto down = w().Down();
  ASSERT_TRUE(down.ok()) << down.output;
  ExpectStillBlocking();
  EXPECT_TRUE(Contains(w().NmLog(), uuid_ + ": switched off by the user; the kill switch stays "
                                            "engaged (lockdown"))
      << w().Logs();
  // A user who is not an administrator cannot release it (the guard asks
  // polkit, and there is none here: any failure to get an answer is a no).
  auto user = w().KillswitchAsNobody({"release", "--all"});
  EXPECT_NE(user.exit_code, 0) << user.output;
  EXPECT_TRUE(Contains(user.output, "blocking stays as it was")) << user.output;
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  ReleaseAll();
}

TEST_F(LockdownDisconnectTest, ProfileDeletedKeepsBlockingUntilAnAdministratorReleases) {
  auto del = w().Nmcli({"connection", "delete", "wg0"});
  ASSERT_TRUE(del.ok()) << del.output;
  ExpectStillBlocking();
  EXPECT_TRUE(Contains(w().NmLog(), uuid_ + ": profile deleted; the kill switch stays engaged"))
      << w().Logs();
  ReleaseAll();
}

}  // namespace
}  // namespace nmks::nmworld
