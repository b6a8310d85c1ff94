// NetworkManager connections built in memory for the hook's unit tests:
// what `nmcli connection add` would make for OpenVPN, OpenConnect and
// NetworkManager's own WireGuard.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dispatcher/hook.h"
#include "dispatcher/opt_in.h"

namespace nmks::dispatch::test {

inline constexpr char kUuid[] = "0b5c3a2e-6f4d-4c1e-9a7b-2d8e1f0c3b4a";

// A VPN connection of `service_type` with these vpn.data items.
ConnectionPtr VpnConnection(const std::string& service_type,
                            const std::map<std::string, std::string>& data,
                            const std::string& uuid = kUuid);
ConnectionPtr OpenVpn(const std::map<std::string, std::string>& data,
                      const std::string& uuid = kUuid);
// A WireGuard connection whose peers have these endpoints ("" for none).
ConnectionPtr WireGuard(const std::vector<std::string>& endpoints,
                        const std::string& uuid = kUuid);
ConnectionPtr Ethernet(const std::string& uuid = kUuid);

// Sets user data on `connection` (value "" removes the key).
void SetUserData(NMConnection* connection, const std::map<std::string, std::string>& data);

}  // namespace nmks::dispatch::test
