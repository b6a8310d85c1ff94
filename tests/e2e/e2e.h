// What the end-to-end tests share: worlds made with this build's binaries,
// and a fixture that starts with the VPN connected and traffic flowing
// through the tunnel.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "tests/nmworld/nm_world.h"
#include "tests/world/world.h"

namespace nmks::nmworld {

// A world's options with this build's binaries.
inline Options BuildOptions() {
  Options o;
  o.build_dir = NMKS_BUILD_DIR;
  return o;
}

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A test that starts in a world whose VPN "wg0" is connected, with traffic
// through the tunnel. Configure() adjusts the world first.
class ConnectedTest : public testing::Test {
 protected:
  void SetUp() override {
    NMKS_REQUIRE_ROOT();
    Options o = BuildOptions();
    Configure(o);
    world_ = std::make_unique<NmWorld>(o);
    world_->ImportVpn();
    auto up = world_->Up();
    ASSERT_TRUE(up.ok()) << up.output << world_->Logs();
    ASSERT_TRUE(world_->WaitTunnelFlows(50, 20)) << world_->Logs();
    start_ = world_->Now();
  }
  virtual void Configure(Options&) {}
  NmWorld& w() { return *world_; }
  // Packets that reached the router outside the tunnel since the VPN came up.
  uint64_t Leaked() { return w().Now().leaked - start_.leaked; }
  // Whether traffic flows directly, outside the tunnel: the router counts
  // more than `packets` within `seconds`.
  bool FlowsDirectly(uint64_t packets, int seconds) {
    uint64_t before = w().Now().leaked;
    for (int i = 0; i < seconds * 10; ++i) {
      if (w().Now().leaked > before + packets) return true;
      usleep(100000);
    }
    return false;
  }
  std::string Status() { return w().Killswitch({"status"}).output; }

  std::unique_ptr<NmWorld> world_;
  Counts start_;
};

// What `nm-killswitch status` says in each case.
inline constexpr char kEngaged[] = "Kill switch: engaged.";
inline constexpr char kNotEngaged[] = "Kill switch: not engaged.";

// `nm-killswitch status` once its output holds `expected`, or its last
// answer after `seconds`: what a user would wait for. The product promises
// where the kill switch ends up, not when that is relative to what
// NetworkManager reports: the plugin releases in its Disconnect, after
// NetworkManager already shows the VPN off, and nm-dispatcher's vpn-down
// hooks run after nmcli has returned.
inline world::CommandResult StatusOnceItSays(NmWorld& w, const std::string& expected,
                                             int seconds) {
  world::CommandResult status = w.Killswitch({"status"});
  for (int i = 0; i < seconds * 10 && !Contains(status.output, expected); ++i) {
    usleep(100000);
    status = w.Killswitch({"status"});
  }
  return status;
}

}  // namespace nmks::nmworld
