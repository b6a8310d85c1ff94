// A hostile local user floods the kill switch with the largest messages the
// system bus takes (32 MB, a million endpoints each), to the guard itself
// and to its front, with a real method and one that does not exist. The bus
// parses nothing for a receiver that cannot be reached, and GDBus parses a
// message whole before its receiver can ask who sent it (a 32 MB policy
// once grew the guard from 8 MB to 776 MB before "not authorized"). What
// must hold: the guard's memory does not grow by more than 64 MiB (it is
// never reached), root's calls are answered within a second all along, the
// table does not change, nothing gets out, and afterwards users are served
// again.
#include <gmock/gmock.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "guard/names.h"
#include "tests/guard/guard_world.h"

namespace nmks::guardtest {
namespace {

using testing::HasSubstr;

// A field of /proc/PID/status in KiB (VmRSS, VmHWM), 0 if unreadable.
uint64_t MemoryKiB(pid_t pid, const std::string& field) {
  std::string status = ReadFile("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find(field + ":");
  if (at == std::string::npos) return 0;
  return std::strtoull(status.c_str() + at + field.size() + 1, nullptr, 10);
}

struct Flood {
  std::string destination;
  std::string method;
  std::string log;
  std::unique_ptr<OwnedProcess> process = std::make_unique<OwnedProcess>();
};

class FloodTest : public GuardTest {
 protected:
  void SetUp() override {
    GuardTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    polkit_ = std::make_unique<Polkit>(dir(), bus(), "");  // Debian's default rules
  }
};

TEST_F(FloodTest, AHugeMessageFromAUserCostsTheGuardNothing) {
  StartGuard();
  Outcome e = Cli(
      {"engage", "--connection", "base", "--tunnel", "tun0", "--endpoint", "203.0.113.1:51820"});
  ASSERT_EQ(e.exit_code, 0) << e.all();
  const TableState before = Table();
  ASSERT_TRUE(before.exists);
  const uint64_t guard_rss_before = MemoryKiB(guard().pid(), "VmRSS");
  const uint64_t guard_peak_before = MemoryKiB(guard().pid(), "VmHWM");
  PacedUdp traffic(world().client, kOutside, 5300);

  // Four hostile processes of user nobody, two 32 MB calls each, at once.
  std::vector<Flood> floods;
  for (const char* destination : {kGuardBusName, kFrontBusName}) {
    for (const char* method : {"Engage", "NoSuchMethod"}) {
      Flood f{destination, method, dir() / ("flood-" + std::to_string(floods.size()) + ".log")};
      f.process->Start({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        BuildPath("tests/bus-flood"), destination, method, "1000000", "2"},
                       ChildEnvironment("/", {bus().env()}), f.log, -1);
      floods.push_back(std::move(f));
    }
  }
  // Root keeps asking the guard meanwhile, as the VPN plugin and the
  // dispatcher hook do (the hook gives up after 5 s); and polkitd, whose
  // answer to a ping is the bus's own delay (it reads and checks every 32 MB
  // message on the way): the floor.
  using Ms = std::chrono::duration<double, std::milli>;
  Ms slowest{0}, slowest_bus{0};
  int root_calls = 0, root_failures = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(4);
  auto any_running = [&floods] {
    return std::any_of(floods.begin(), floods.end(), [](Flood& f) { return f.process->running(); });
  };
  while (any_running() && std::chrono::steady_clock::now() < deadline) {
    auto start = std::chrono::steady_clock::now();
    Reply r = CallGuard(bus().connection(), "Status", nullptr, 5s);
    slowest = std::max(slowest, Ms(std::chrono::steady_clock::now() - start));
    ++root_calls;
    if (!r.ok()) ++root_failures;
    start = std::chrono::steady_clock::now();
    GVariant* pong = g_dbus_connection_call_sync(
        bus().connection(), "org.freedesktop.PolicyKit1", "/", "org.freedesktop.DBus.Peer", "Ping",
        nullptr, nullptr, G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
    slowest_bus = std::max(slowest_bus, Ms(std::chrono::steady_clock::now() - start));
    if (pong != nullptr) g_variant_unref(pong);
    // Not more often: each Status costs the guard some memory of its own,
    // which AddressSanitizer's quarantine keeps for a while.
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_FALSE(any_running()) << "the flood did not end within 4 minutes";
  const auto totals = traffic.Finish();

  const uint64_t guard_peak_after = MemoryKiB(guard().pid(), "VmHWM");
  const uint64_t guard_rss_after = MemoryKiB(guard().pid(), "VmRSS");
  std::printf(
      "guard: RSS %llu -> %llu KiB, peak %llu -> %llu KiB; root Status: %d calls, %d failed, "
      "slowest %.1f ms (a ping of polkitd: %.1f ms); %llu datagrams tried meanwhile\n",
      static_cast<unsigned long long>(guard_rss_before),
      static_cast<unsigned long long>(guard_rss_after),
      static_cast<unsigned long long>(guard_peak_before),
      static_cast<unsigned long long>(guard_peak_after), root_calls, root_failures, slowest.count(),
      slowest_bus.count(), static_cast<unsigned long long>(totals.attempts));
  EXPECT_LE(guard_peak_after, guard_peak_before + 64 * 1024) << "the flood reached the guard";
  EXPECT_LE(guard_rss_after, guard_rss_before + 64 * 1024);
  EXPECT_GT(root_calls, 0);
  EXPECT_EQ(root_failures, 0);
  // Within a second, or no slower than the bus itself answers (a loaded
  // machine): the guard adds no wait of its own.
  EXPECT_LT(slowest, std::max(Ms(1000), slowest_bus + Ms(250))) << "root waited for the guard";

  for (const Flood& f : floods) {
    const std::string out = ReadFile(f.log);
    std::printf("%s %s: %s", f.destination.c_str(), f.method.c_str(), out.c_str());
    EXPECT_THAT(out, testing::Not(HasSubstr("ok\n"))) << f.destination << " " << f.method;
    if (f.destination == kGuardBusName) {
      // The bus itself turns users away from the guard.
      EXPECT_EQ(out,
                "org.freedesktop.DBus.Error.AccessDenied\n"
                "org.freedesktop.DBus.Error.AccessDenied\n");
    }
  }
  EXPECT_TRUE(SameTable(before, Table()).ok());
  EXPECT_EQ(Leaks(5301), 0u);
  EXPECT_GT(totals.attempts, 0u);

  // The front took the flood within its own limit: alive, or ended (a
  // message too big for it ends it; D-Bus activation starts the next one).
  if (front_->running()) {
    std::printf("front: RSS %llu KiB, peak %llu KiB\n",
                static_cast<unsigned long long>(MemoryKiB(front_->pid(), "VmRSS")),
                static_cast<unsigned long long>(MemoryKiB(front_->pid(), "VmHWM")));
  } else {
    std::printf("front: ended by the flood\n");
    StartFront();
  }
  // Users are served again; their changes still need polkit.
  Outcome status = Cli({"status"}, Caller::Nobody());
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, HasSubstr("Kill switch: engaged"));
  Outcome engage = Cli({"engage", "--connection", "evil", "--tunnel", "eth0"}, Caller::Nobody());
  EXPECT_NE(engage.exit_code, 0) << engage.all();
  EXPECT_THAT(engage.all(), HasSubstr("not authorized"));
  EXPECT_TRUE(SameTable(before, Table()).ok());
}

// The front is started by D-Bus for a user's call and goes away after a
// quiet while, giving up its name first, so that it costs nothing at rest
// and an old one never outlives an upgrade for long.
TEST_F(FloodTest, TheFrontServesUsersAndExitsWhenIdle) {
  StartGuard();
  StartFront({"--idle-exit", "2"});
  Outcome status = Cli({"status"}, Caller::Nobody());
  EXPECT_EQ(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.out, HasSubstr("Kill switch: not engaged"));
  std::printf("front after a status: RSS %llu KiB, data %llu KiB\n",
              static_cast<unsigned long long>(MemoryKiB(front_->pid(), "VmRSS")),
              static_cast<unsigned long long>(MemoryKiB(front_->pid(), "VmData")));
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (front_->running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(front_->running()) << "the front did not exit when idle";
  EXPECT_THAT(ReadFile(front_log()), HasSubstr("idle; exiting"));
  EXPECT_FALSE(bus().OwnerPid(kFrontBusName).has_value());
}

// With no guard, a user's call through the front says so in words the user
// can act on, not as a D-Bus error.
TEST_F(FloodTest, WithoutTheGuardUsersAreToldItIsNotRunning) {
  Outcome status = Cli({"status"}, Caller::Nobody());
  EXPECT_NE(status.exit_code, 0) << status.all();
  EXPECT_THAT(status.all(), HasSubstr("nm-killswitch-guard is not running")) << status.all();
  EXPECT_TRUE(front_->running()) << "the front must outlive a missing guard";
}

}  // namespace
}  // namespace nmks::guardtest
