// nm-killswitch-demo: the product as people meet it, in a sandbox. A real
// NetworkManager on a private bus imports a wg-quick file with nmcli
// (through our editor plugin) and connects through our VPN service to a
// wireguard-go server in an "internet" namespace, while ordinary programs
// keep sending (UDP, TCP, DNS, IPv4 and IPv6, as nobody). Then the honest
// test: break the tunnel, pull the cable, kill things, and count at the
// router every packet that left the client outside the VPN's encrypted
// flow. Prints the table; exits non-zero if anything leaked while the kill
// switch was engaged.
//
//   nm-killswitch-demo --build-dir DIR [--install-root DESTDIR]   (as root)
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/nmworld/nm_world.h"

namespace {

using nmks::nmworld::Counts;
using nmks::nmworld::NmWorld;

struct Row {
  std::string phase;
  uint64_t tunneled, leaked;
  bool must_not_leak;
};

class Demo {
 public:
  explicit Demo(NmWorld& w) : w_(w) {}

  void Phase(const std::string& what, int seconds, bool must_not_leak,
             const std::function<void()>& act) {
    Counts before = w_.Now();
    act();
    sleep(static_cast<unsigned>(seconds));
    Counts after = w_.Now();
    Row r{what, after.tunneled - before.tunneled, after.leaked - before.leaked, must_not_leak};
    std::printf("  %-50s through the tunnel %6llu   leaked %6llu\n", what.c_str(),
                static_cast<unsigned long long>(r.tunneled),
                static_cast<unsigned long long>(r.leaked));
    std::fflush(stdout);
    rows_.push_back(r);
  }

  bool Report() const {
    bool leaked = false;
    std::printf(
        "\n| phase                                              | through tunnel | "
        "leaked |\n|----------------------------------------------------|---------------:|"
        "-------:|\n");
    for (const Row& r : rows_) {
      bool bad = r.must_not_leak && r.leaked != 0;
      leaked = leaked || bad;
      std::printf("| %-50s | %14llu | %6llu |%s\n", r.phase.c_str(),
                  static_cast<unsigned long long>(r.tunneled),
                  static_cast<unsigned long long>(r.leaked), bad ? " LEAK" : "");
    }
    return !leaked;
  }

 private:
  NmWorld& w_;
  std::vector<Row> rows_;
};

void Say(const char* text) {
  std::printf("%s\n", text);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  nmks::nmworld::Options o;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--build-dir") == 0 && i + 1 < argc) {
      o.build_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--install-root") == 0 && i + 1 < argc) {
      o.install_root = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s --build-dir DIR [--install-root DESTDIR]\n", argv[0]);
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "nm-killswitch-demo: run as root (it builds network namespaces)\n");
    return 1;
  }
  try {
    Say("Building the sandbox: a client with NetworkManager, a router, and an internet with a\n"
        "WireGuard server (network namespaces and a private system bus; nothing else is touched).");
    NmWorld w(o);
    Say("Importing the VPN: nmcli connection import type killswitch file wg0.conf");
    w.ImportVpn();
    Say("Connecting: nmcli connection up wg0");
    auto up = w.Up();
    if (!up.ok()) throw std::runtime_error("nmcli connection up failed: " + up.output + w.Logs());
    if (!w.WaitTunnelFlows(20, 20)) throw std::runtime_error("no traffic through the tunnel");
    std::printf("%s\n", w.Killswitch({"status"}).output.c_str());
    Say("Traffic keeps running from an unprivileged user. Breaking things:");
    Demo d(w);
    d.Phase("VPN up", 3, true, [] {});
    d.Phase("VPN server gone (10 s)", 10, true, [&] { w.ServerDown(); });
    d.Phase("VPN server back", 4, true, [&] { w.ServerUp(); });
    d.Phase("cable pulled (10 s)", 10, true, [&] { w.LinkDown(); });
    d.Phase("cable back", 6, true, [&] {
      w.LinkUp();
      w.WaitLanActive(30);
    });
    d.Phase("new address on the LAN (a new lease)", 4, true, [&] { w.MoveClientAddress(); });
    d.Phase("wireguard-go killed", 4, true, [&] { w.KillWireguardGo(); });
    d.Phase("kill-switch guard killed", 3, true, [&] { w.KillGuard(); });
    d.Phase("guard back", 3, true, [&] { w.StartGuard(); });
    Say("Self-test: nm-killswitch verify");
    std::printf("%s\n", w.Killswitch({"verify"}).output.c_str());
    d.Phase("user switches the VPN off (kill switch: on)", 4, false, [&] { w.Down(); });
    bool ok = d.Report();
    std::printf(
        "\n\"leaked\" counts every packet the router received from the client outside the\n"
        "VPN's own encrypted flow. After the user switched the VPN off, traffic flows\n"
        "directly again, as it should.\n");
    if (!ok) {
      std::printf("SOMETHING LEAKED while the kill switch was engaged.\n");
      return 1;
    }
    std::printf("While the kill switch was engaged, 0 packets leaked in every phase.\n");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nm-killswitch-demo: %s\n", e.what());
    return 1;
  }
}
