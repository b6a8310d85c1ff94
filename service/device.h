// What a WireGuard device is configured with, once names are resolved and
// keys decoded, and the one small interface behind which the kernel's
// WireGuard (generic netlink) and wireguard-go (its UAPI socket) hide.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "rules/policy.h"

namespace nmks::wg {

using Key = std::array<uint8_t, 32>;

// Overwrites a key's bytes when it goes, so keys do not linger in freed memory.
struct SecretKey {
  Key bytes{};
  SecretKey() = default;
  explicit SecretKey(const Key& k) : bytes(k) {}
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();
};

struct AllowedIp {
  Address address;
  uint8_t prefix = 0;
};

struct PeerEndpoint {
  Address address;
  uint16_t port = 0;
};

struct PeerConfig {
  Key public_key{};
  std::optional<SecretKey> preshared_key;
  std::optional<PeerEndpoint> endpoint;  // resolved
  std::vector<AllowedIp> allowed_ips;
  uint16_t persistent_keepalive = 0;
};

struct DeviceConfig {
  std::string ifname;
  SecretKey private_key;
  std::optional<uint16_t> listen_port;
  std::optional<uint32_t> mtu;
  uint32_t fwmark = 0;
  std::vector<PeerConfig> peers;
};

// A WireGuard device while it is up.
class Tunnel {
 public:
  virtual ~Tunnel() = default;
  // Creates the interface (if needed) and applies the whole configuration.
  virtual Status Configure(const DeviceConfig& config) = 0;
  // Sends every peer's endpoint again, so the device picks a fresh source
  // address and route after a network change.
  virtual Status RefreshEndpoints() = 0;
  // Takes the interface down and away.
  virtual void Remove() = 0;
};

}  // namespace nmks::wg
