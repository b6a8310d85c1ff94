// NmWorld with a real OpenVPN server in the "internet", NetworkManager's
// own OpenVPN plugin (network-manager-openvpn, registered in
// NetworkManager's mount namespace the way NmWorld registers ours), and the
// dispatcher hook of this build installed in NetworkManager's dispatcher
// directory, run by a real nm-dispatcher. The connection "ovpn" is an
// OpenVPN client connection to the server; the router counts every packet
// the client sends outside the OpenVPN flow.
//
//   client (NetworkManager)          router                    internet
//   eth0 198.51.100.2 ----------- lan 198.51.100.1
//                                     wan 203.0.113.254 ---- wan 203.0.113.1 (OpenVPN :1194 udp)
//   tun0 192.0.2.x, 2001:db8:200::x (OpenVPN's tunnel)       ovpns 192.0.2.1, 2001:db8:200::1
//
// NmWorld's WireGuard server is taken down (its addresses are the OpenVPN
// tunnel's here). A CA, server and client certificate are made with openssl
// for each world. Only documentation addresses, only namespaces the world
// made; every process it starts is stopped by PID.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/nmworld/nm_world.h"

namespace nmks::nmworld {

inline constexpr char kOpenVpnServer4[] = "203.0.113.1";
inline constexpr uint16_t kOpenVpnPort = 1194;
inline constexpr char kOpenVpnName[] = "ovpn";
inline constexpr char kOpenVpnUuid[] = "7d3f2c1a-9b8e-4f6d-a5c4-3e2d1f0a9b8c";
// Resolves to the server inside NetworkManager's namespace (its /etc/hosts).
inline constexpr char kOpenVpnHost[] = "vpn.example.com";

struct OpenVpnOptions {
  std::string build_dir;
  bool traffic = true;
  bool secondary = true;  // the LAN brings the VPN up (NetworkManager's way to autoconnect a VPN)
  // vpn.data of the connection "ovpn" beyond the certificates (remote, ping, ...).
  std::map<std::string, std::string> data = {
      {"remote", "203.0.113.1:1194"}, {"ping", "2"}, {"ping-restart", "8"}};
  bool openvpn_server = true;  // false: keep NmWorld's WireGuard server, no OpenVPN
  bool nm_root_only = false;   // NetworkManager's auth-polkit=root-only: others are refused
  std::map<std::string, std::string> user_data;  // user.data of "ovpn" in its file
};

// When the kill switch engaged, measured against the VPN client's packets.
struct Window {
  bool measured = false;
  double first_packet = 0;     // CLOCK_REALTIME of the client's first packet to the server
  double engaged = 0;          // ... of the guard's Changed signal that followed
  uint64_t to_server = 0;      // client packets to the OpenVPN server before it engaged
  uint64_t other = 0;          // any other client packets seen by the router meanwhile
  double ms() const { return (engaged - first_packet) * 1000; }
};

class OpenVpnWorld : public NmWorld {
 public:
  explicit OpenVpnWorld(OpenVpnOptions options);  // throws std::runtime_error
  ~OpenVpnWorld();

  world::CommandResult UpVpn(int timeout_s = 90);
  world::CommandResult DownVpn();
  bool WaitOpenVpnActive(int seconds);
  // Sets vpn.data items of "ovpn" (value "" removes one).
  void SetData(const std::map<std::string, std::string>& data);
  // nm-killswitch enable/disable ARGS... of this build, in NetworkManager's namespaces.
  world::CommandResult Enable(const std::vector<std::string>& args);

  // The hook of this build run directly, as nm-dispatcher would, with
  // exactly `env` (plus nothing) and argv (hook, iface, action): the
  // connection's program for pre-up, vpn-pre-up, pre-down and vpn-pre-down
  // (from pre-up.d, pre-down.d), the light one for the rest (dispatcher.d).
  world::CommandResult RunHook(const std::string& iface, const std::string& action,
                               const std::map<std::string, std::string>& env);
  // The same with `program` (one of the two below) whatever the action.
  world::CommandResult RunHook(const std::string& iface, const std::string& action,
                               const std::map<std::string, std::string>& env,
                               const std::string& program);
  std::string HookPath() const;            // nm-killswitch-dispatcher
  std::string ConnectionHookPath() const;  // nm-killswitch-dispatcher-connection

  // Counting, at the router: everything the client sends apart from link
  // housekeeping and its OpenVPN flow; at the server: what comes out of the tunnel.
  Counts Now() const;
  uint64_t ToServer() const;  // the client's OpenVPN packets
  bool WaitTunnelFlows(uint64_t packets, int seconds);
  bool KillOpenVpnClient();  // SIGKILL to the client's openvpn; false if none ran
  std::string OpenVpnLogs() const;
  // What the hook wrote (its lines in nm-dispatcher's output).
  std::string HookLog() const;

  // Start before `nmcli connection up`, read after: the window between the
  // VPN client's first packet and the engagement.
  void StartWindowCapture();
  Window WindowSeen();

  // The settings path of a connection on NetworkManager's bus.
  std::string SettingsPath(const std::string& uuid = kOpenVpnUuid);
  std::string BusAddress() const { return bus_address(); }
  // GetSettings of a connection, as gdbus prints it.
  std::string SettingsText(const std::string& uuid);
  // The keyfile NetworkManager keeps "ovpn" in.
  std::string ConnectionFile() const;

 private:
  void Cleanup();
  void InstallHook();
  void RegisterOpenVpnPlugin();
  void MakeCertificates();
  void StartOpenVpnServer();
  void WriteConnection();
  void AddCounters();

  OpenVpnOptions ovpn_;
  Process ovpn_server_, capture_, monitor_;
};

}  // namespace nmks::nmworld
