// The VPN service's work, apart from the libnm plumbing (service_main.cc):
// on Connect, validate the connection, resolve the peers, engage the kill
// switch through the guard, bring the WireGuard tunnel up and hand
// NetworkManager its configuration; on Disconnect, take the tunnel down and
// release the kill switch only when the user switched the VPN off in mode
// "on". Every failure before the tunnel is up leaves the kill switch as it
// was (engaged if it was), and says why.
#pragma once

#include "base/libnm.h"

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "rules/policy.h"
#include "service/device.h"
#include "service/endings.h"
#include "service/network_watch.h"
#include "wireguard/wg_connection.h"

namespace nmks::wg {

// The interface name a connection's tunnel gets: "ks" and 8 hex digits of
// its uuid, stable across activations (the kill switch allows it by name).
std::string TunnelName(const std::string& uuid);

// What NetworkManager is told once the tunnel is up.
struct NmConfig {
  GVariant* general = nullptr;  // floating a{sv}
  GVariant* ip4 = nullptr;      // floating a{sv}, or null without IPv4
  GVariant* ip6 = nullptr;      // floating a{sv}, or null without IPv6
};
NmConfig BuildNmConfig(const Config& config, const std::string& ifname,
                       const std::vector<PeerEndpoint>& gateways);

// The kill-switch policy for a connection.
Policy BuildPolicy(const Settings& settings, const std::string& ifname,
                   const std::vector<Endpoint>& endpoints);

class Service {
 public:
  // `bus`: the system bus the plugin serves NetworkManager on.
  explicit Service(GDBusConnection* bus);
  ~Service();

  // Ok when the connection has its private key.
  bool NeedsSecrets(NMConnection* connection);
  // On success, the three configurations to send NetworkManager.
  Result<NmConfig> Connect(NMConnection* connection);
  void Disconnect();

 private:
  // Every address of every peer's endpoint (servers/resolve.h); `chosen`
  // gets the one per peer the tunnel uses. A host name that does not
  // resolve falls back to the addresses of this connection's current
  // engagement on that port (DNS may well be blocked by the kill switch
  // itself, e.g. after a boot with it engaged), asked of the guard only then
  // and never with the kill switch off.
  Result<std::vector<Endpoint>> ResolveEndpoints(const Settings& settings,
                                                 std::vector<PeerEndpoint>* chosen);
  // The endpoints the guard holds for this connection (one Status call).
  std::vector<Endpoint> EngagedEndpoints();
  void OnNetworkChanged();
  // Connect's steps: the kill switch engaged for the connection's policy;
  // the tunnel made (kernel WireGuard, or wireguard-go) and configured; the
  // routing marks and the network watch in place.
  Status EngageKillSwitch(const Settings& settings, const std::vector<Endpoint>& endpoints);
  Status StartTunnel(const DeviceConfig& device);
  void WatchTunnel();

  GDBusConnection* bus_;
  std::string uuid_;
  std::string ifname_;
  Options options_;
  bool engaged_ = false;
  std::unique_ptr<Tunnel> tunnel_;
  std::unique_ptr<NetworkWatch> network_watch_;
  std::unique_ptr<EndingWatch> ending_watch_;
};

}  // namespace nmks::wg
