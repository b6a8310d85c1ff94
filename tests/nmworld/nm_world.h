// A whole machine with NetworkManager, for the end-to-end tests and the
// demo: a client namespace where a real NetworkManager runs on a private
// system bus (in its own mount namespace, with our VPN plugin registered
// there only), a router namespace that is the client's LAN gateway and
// counts every packet the client sends, and an "internet" namespace with a
// wireguard-go VPN server and the destinations the client's traffic goes
// to. Only documentation addresses, only namespaces the world made; every
// process it starts is stopped by PID when it goes, and nothing is left.
//
//   client (NetworkManager)         router                    internet
//   eth0 198.51.100.2 ---------- lan 198.51.100.1
//        2001:db8:100::2              2001:db8:100::1
//                                 wan 203.0.113.254 ------ wan 203.0.113.1 (VPN server :51820)
//                                     2001:db8:300::fe         2001:db8:300::1
//   VPN: 192.0.2.2, 2001:db8:200::2  (tunnel)              wgs 192.0.2.1, 2001:db8:200::1
//   destinations: 203.0.113.80, [2001:db8:300::80] (web), 203.0.113.53 (DNS), on internet's lo
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "tests/world/netns.h"
#include "tests/world/tally.h"

namespace nmks::nmworld {

inline constexpr char kServer4[] = "203.0.113.1";
inline constexpr char kWeb4[] = "203.0.113.80";
inline constexpr char kWeb6[] = "2001:db8:300::80";
inline constexpr char kDns4[] = "203.0.113.53";
inline constexpr char kClientLan4[] = "198.51.100.2";
inline constexpr char kClientLan4Moved[] = "198.51.100.3";

struct Options {
  // Where the binaries come from: a build directory (the .name file points
  // into it) or, with install_root set, a `meson install --destdir` tree
  // laid over /usr in NetworkManager's mount namespace.
  std::string build_dir;
  std::string install_root;
  // A whole Debian root file system (tests/gnome/root.sh), e.g. of another
  // release than the host's: everything that runs in NetworkManager's mount
  // namespace (NetworkManager, nmcli, our installed programs, and what a test
  // starts there) runs chrooted in an overlay of it, which the world makes
  // and removes; the packages in root_debs (.deb files) are installed into
  // that overlay first with dpkg -i. The host's /tmp is shared with it (the
  // world's directory is there). Traffic and the servers run on the host.
  std::string root;
  std::string root_debs;
  std::string kill_switch = "on";  // vpn.data kill-switch
  bool block_at_boot = false;
  // vpn.persistent: the VPN stays up while the LAN is gone. NetworkManager
  // 1.42 cannot combine it with `secondary`: when the LAN comes back it fails
  // the LAN's activation because its secondary VPN "is already active".
  bool persistent = false;
  bool secondary = true;  // the LAN profile brings the VPN up (NM's way to autoconnect a VPN)
  bool start_nm = true;   // false: the test loads a boot ruleset first
  bool start_guard = true;
  bool traffic = true;      // unprivileged UDP, TCP and DNS, IPv4 and IPv6, all the time
  bool dispatcher = false;  // run nm-dispatcher (for the dispatcher hook's tests)
  // The client's wg-quick file: [Interface] Address and the peer's
  // AllowedIPs (the server always routes both of the client's addresses).
  std::string address = "192.0.2.2/32, 2001:db8:200::2/128";
  std::string allowed_ips = "0.0.0.0/0, ::/0";
  // NetworkManager.conf auth-polkit: "false" allows every caller;
  // "root-only" refuses everyone but root, as polkit refuses a user who is
  // not an administrator.
  std::string auth_polkit = "false";
  // The VPN server's name for the wg-quick file's Endpoint, answered (A
  // only) by dnsmasq on the client's resolver 203.0.113.53; empty: its address.
  std::string endpoint_host;
};

// A process the world started, stopped by PID.
struct Process {
  pid_t pid = -1;
  std::string name;
  std::string log;
};

// Packets counted so far.
struct Counts {
  uint64_t leaked = 0;    // reached the router outside the VPN's encrypted flow
  uint64_t tunneled = 0;  // came out of the tunnel at the VPN server
};

class NmWorld {
 public:
  explicit NmWorld(Options options);  // throws std::runtime_error if the world cannot be made
  ~NmWorld();
  NmWorld(const NmWorld&) = delete;
  NmWorld& operator=(const NmWorld&) = delete;

  // --- parts ---
  void StartNetworkManager();
  void StopNetworkManager(bool kill = false);
  void StartGuard();
  void KillGuard();
  // The guard is gone and its bus name hangs: D-Bus activation (on the
  // first call to the name) starts a stand-in that never takes the name, so
  // the caller waits until the bus gives up (25 s), as it would for a guard
  // that hangs as it starts. Only the bus name is faked.
  void HangGuardName();
  void StartTraffic();
  void StopTraffic();

  // --- commands, inside NetworkManager's namespaces, on the private bus ---
  world::CommandResult Nmcli(const std::vector<std::string>& args, int timeout_s = 60);
  // The same as nobody (uid and gid 65534, no groups).
  world::CommandResult NmcliAsNobody(const std::vector<std::string>& args, int timeout_s = 60);
  world::CommandResult Killswitch(const std::vector<std::string>& args);
  world::CommandResult KillswitchAsNobody(const std::vector<std::string>& args);
  world::CommandResult InClient(const std::vector<std::string>& argv);
  // nmcli connection import of the world's wg-quick file; the VPN is "wg0".
  void ImportVpn();
  world::CommandResult Up();
  world::CommandResult Down();
  std::string VpnUuid();
  // Wait until NetworkManager says the VPN (the LAN) is activated.
  bool WaitVpnActive(int seconds);
  bool WaitLanActive(int seconds);

  // --- failures ---
  void ServerDown();  // the VPN server stops answering
  void ServerUp();
  void LinkDown();  // the client's cable is pulled (carrier lost)
  void LinkUp();
  void MoveClientAddress();  // 198.51.100.2 -> .3, as a new DHCP lease would
  bool KillWireguardGo();    // the client's wireguard-go; false if none ran
  bool KillPlugin();         // nm-killswitch-service; false if none ran
  std::vector<pid_t> PluginPids() const;  // nm-killswitch-service (one per active VPN)

  // --- reboot ---
  // The client machine goes down and comes back: traffic, NetworkManager
  // (its plugin and wireguard-go with it), nm-dispatcher and the guard
  // stop, and the client's network namespace, NetworkManager's mount
  // namespace and all of /run (the guard's state file too) are replaced by
  // fresh, empty ones, with eth0 linked to the router again. What a disk
  // keeps stays: the connection profiles, /var/lib/NetworkManager and the
  // boot file. Nothing runs afterwards (but nm-dispatcher, when the world
  // has it); the test starts what boot would: LoadBootRuleset,
  // StartTraffic, StartGuard, StartNetworkManager.
  void PowerCycleClient();
  // `nm-killswitch-guard --load-boot FILE` in the client, as
  // nm-killswitch-boot.service runs it.
  world::CommandResult LoadBootRuleset();
  std::string BootFile() const;  // where the guard writes the boot ruleset

  // --- counting ---
  Counts Now() const;
  // Waits until traffic flows through the tunnel again (tunneled grows by
  // `packets` within `seconds`).
  bool WaitTunnelFlows(uint64_t packets, int seconds);
  // Whether the kill-switch table is in the client's kernel (a netlink
  // read, quick enough to poll every few milliseconds).
  bool TableInKernel() const;
  // What the kill switch says it stopped for `why` ("dns", "ipv6",
  // "blocked", ...) since its table last changed, from `nm-killswitch
  // status --json`; 0 when it does not say.
  uint64_t Stopped(const std::string& why);
  const std::string& dir() const { return dir_; }
  std::string Logs() const;  // the tails of every log, for a failing test
  std::string NmLog() const;  // NetworkManager's whole log (the plugin's messages are in it)

  world::Netns client{"nc"};
  world::Netns router{"nr"};
  world::Netns internet{"ni"};

 protected:
  // For worlds built on this one (e.g. with an OpenVPN server).
  Process Spawn(const std::string& name, const std::vector<std::string>& argv,
                const world::Netns* ns);
  void Stop(Process& p, bool kill = false);
  // argv run inside NetworkManager's mount, network and UTS namespaces.
  std::vector<std::string> InHolder(const std::vector<std::string>& argv) const;
  std::string Path(const char* relative) const;
  const std::string& bus_address() const { return bus_address_; }
  const Options& options() const { return options_; }

 private:
  // Stops every process the world started and removes its directory; runs
  // once (the destructor, or a constructor that fails).
  void Shutdown();
  void BuildNetwork();
  void LinkClient();
  void WriteNmFiles();
  void StartHolder();
  void StartServer();
  void StartDns();
  void StartDispatcher();
  std::string GuardProgram() const;
  std::vector<std::string> KillswitchArgv(const std::vector<std::string>& args) const;
  std::string EditorPlugin() const;  // the editor plugin the world's .name file names
  std::vector<std::string> NmcliArgv(const std::vector<std::string>& args, int timeout_s) const;
  bool WaitActive(const std::string& connection, int seconds);
  void WaitLanSettled();  // see nm_world.cc

  Options options_;
  std::string dir_;
  std::string bus_address_;
  std::string client_public_key_;
  Process bus_, holder_, dispatcher_, nm_, guard_, front_, server_, dns_, traffic_;
  std::unique_ptr<world::Tally> from_client_;
  std::unique_ptr<world::Tally> vpn_flow_;
  std::unique_ptr<world::Tally> tunneled_;
};

}  // namespace nmks::nmworld
