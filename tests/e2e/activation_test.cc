// Activation: the kill switch is engaged before the tunnel exists, and from
// that moment nothing leaks while the connection comes up. The window
// between `nmcli connection up` and the engagement, when nothing was engaged
// before, is measured and printed; it is mostly NetworkManager spawning the
// plugin. With kill-switch=lockdown left engaged by an earlier session
// there is no such window: nothing leaks from before `nmcli connection up`
// on, and the table is never absent while the connection comes up.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>

#include "tests/e2e/e2e.h"

namespace nmks::nmworld {
namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Polls the client's kernel for the kill-switch table every 2 ms, in a
// thread of its own, while the test brings the VPN up.
class TableWatch {
 public:
  explicit TableWatch(NmWorld& w) : w_(w), thread_([this] { Run(); }) {}
  ~TableWatch() { Finish(); }
  void Finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // When the table was first seen, and the router's leak counter read
  // right after that.
  bool engaged() const { return engaged_; }
  Clock::time_point engaged_at() const { return engaged_at_; }
  uint64_t leaked_at_engagement() const { return leaked_at_engagement_; }
  // Whether the table was ever missing once it had been seen (or, when it
  // was there from the start, at all).
  bool gap() const { return gap_; }
  bool there_at_start() const { return there_at_start_; }
  // Why the leak counter could not be read at engagement ("" if it was).
  const std::string& error() const { return error_; }

 private:
  void Run() {
    bool first = true;
    while (!stop_) {
      bool there = w_.TableInKernel();
      if (first) there_at_start_ = there;
      first = false;
      if (there && !engaged_) {
        engaged_at_ = Clock::now();
        // An exception must not leave this thread (it would end the test
        // program): it is kept for the test to report.
        try {
          leaked_at_engagement_ = w_.Now().leaked;
        } catch (const std::exception& e) {
          error_ = e.what();
        }
        engaged_ = true;
      } else if (!there && engaged_) {
        gap_ = true;
      }
      usleep(2000);
    }
  }

  NmWorld& w_;
  std::atomic<bool> stop_{false};
  bool engaged_ = false, gap_ = false, there_at_start_ = false;
  Clock::time_point engaged_at_;
  uint64_t leaked_at_engagement_ = 0;
  std::string error_;
  std::thread thread_;
};

TEST(ActivationTest, NothingLeaksFromTheEngagementOn) {
  NMKS_REQUIRE_ROOT();
  NmWorld w(BuildOptions());
  w.ImportVpn();
  ASSERT_FALSE(w.TableInKernel());
  uint64_t leaked_before_up = w.Now().leaked;
  uint64_t tunneled_before_up = w.Now().tunneled;

  TableWatch watch(w);
  Clock::time_point t0 = Clock::now();
  auto up = w.Up();
  Clock::time_point t_up = Clock::now();
  ASSERT_TRUE(up.ok()) << up.output << w.Logs();
  ASSERT_TRUE(w.WaitTunnelFlows(1, 20)) << w.Logs();
  Clock::time_point t_flows = Clock::now();
  ASSERT_TRUE(w.WaitTunnelFlows(100, 20)) << w.Logs();
  sleep(1);
  uint64_t leaked_end = w.Now().leaked;
  watch.Finish();

  ASSERT_FALSE(watch.there_at_start());
  ASSERT_TRUE(watch.engaged()) << "the kill-switch table never appeared";
  ASSERT_EQ(watch.error(), "");
  EXPECT_FALSE(watch.gap()) << "the table went missing while the VPN came up";
  EXPECT_EQ(leaked_end, watch.leaked_at_engagement())
      << "leaked after the kill switch was engaged\n"
      << w.Logs();
  EXPECT_GT(w.Now().tunneled, tunneled_before_up);
  auto status = w.Killswitch({"status"});
  EXPECT_TRUE(Contains(status.output, kEngaged)) << status.output;

  const double window = Ms(watch.engaged_at() - t0);
  std::printf(
      "[ activation ] nmcli connection up -> kill switch engaged: %.0f ms (%llu packets went out "
      "directly before that, nothing engaged yet); -> nmcli returned: %.0f ms; -> first packet "
      "through the tunnel: <= %.0f ms\n",
      window, static_cast<unsigned long long>(watch.leaked_at_engagement() - leaked_before_up),
      Ms(t_up - t0), Ms(t_flows - t0));
  RecordProperty("engage_window_ms", static_cast<int>(window));
  // A few hundred milliseconds, dominated by NetworkManager spawning the
  // plugin; seconds would mean something waits that should not.
  EXPECT_LT(window, 5000.0);
}

class LockdownActivationTest : public ConnectedTest {
  void Configure(Options& o) override { o.kill_switch = "lockdown"; }
};

TEST_F(LockdownActivationTest, AlreadyEngagedNothingLeaksEvenBeforeTheEngagement) {
  auto down = w().Down();
  ASSERT_TRUE(down.ok()) << down.output;
  auto status = w().Killswitch({"status"});
  ASSERT_TRUE(Contains(status.output, kEngaged)) << status.output;
  sleep(1);

  TableWatch watch(w());
  uint64_t leaked_before_up = w().Now().leaked;
  uint64_t tunneled_before_up = w().Now().tunneled;
  Clock::time_point t0 = Clock::now();
  auto up = w().Up();
  ASSERT_TRUE(up.ok()) << up.output << w().Logs();
  ASSERT_TRUE(w().WaitTunnelFlows(1, 20)) << w().Logs();
  Clock::time_point t_flows = Clock::now();
  ASSERT_TRUE(w().WaitTunnelFlows(100, 20)) << w().Logs();
  sleep(1);
  watch.Finish();

  EXPECT_TRUE(watch.there_at_start());
  EXPECT_FALSE(watch.gap()) << "the table went missing while the VPN came up";
  EXPECT_EQ(w().Now().leaked, leaked_before_up) << w().Logs();
  EXPECT_EQ(Leaked(), 0u) << w().Logs();
  EXPECT_GT(w().Now().tunneled, tunneled_before_up);
  std::printf(
      "[ activation, lockdown engaged ] nmcli connection up -> first packet through the "
      "tunnel: <= %.0f ms, nothing leaked\n",
      Ms(t_flows - t0));
}

}  // namespace
}  // namespace nmks::nmworld
