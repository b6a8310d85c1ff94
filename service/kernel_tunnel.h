// WireGuard in the kernel, configured the way wg(8) does: a link of kind
// "wireguard" made over rtnetlink, and its state set over the "wireguard"
// generic netlink family with libmnl. Used when the kernel has WireGuard;
// EncodeSetDevice is separate so the message encoding is tested on
// machines without the module.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "service/device.h"

struct mnl_socket;

namespace nmks::wg {

using Message = std::vector<char>;

// The WG_CMD_SET_DEVICE messages that apply `config` (all of it, replacing
// the peers, or with endpoints_only just each peer's endpoint, update-only).
// A configuration too big for one message is split the way wg(8) splits it:
// later messages carry only the interface name and more peers or allowed
// IPs, without the replace flags.
std::vector<Message> EncodeSetDevice(const DeviceConfig& config, uint16_t family_id, uint32_t seq,
                                     bool endpoints_only, size_t max_message_bytes = 32768);

class KernelTunnel : public Tunnel {
 public:
  using Log = std::function<void(const std::string&)>;
  explicit KernelTunnel(Log log) : log_(std::move(log)) {}
  ~KernelTunnel() override;

  // Creates the wireguard link. EOPNOTSUPP means the kernel has no WireGuard.
  static Status CreateLink(const std::string& ifname, int* errno_out);

  Status Configure(const DeviceConfig& config) override;
  Status RefreshEndpoints() override;
  void Remove() override;

 private:
  Status Send(bool endpoints_only);
  Log log_;
  DeviceConfig config_;
  bool created_ = false;
};

}  // namespace nmks::wg
