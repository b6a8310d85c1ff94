// The opt-in: which connections of other VPN types the kill switch
// protects, and how. It lives in the connection itself, as user data that
// NetworkManager keeps, saves and guards like any other setting
// (NMSettingUser), so changing it needs the same rights as changing the
// connection:
//
//   nm-killswitch.mode           on | lockdown
//   nm-killswitch.allow-lan      yes | no
//   nm-killswitch.block-at-boot  yes | no
//
// `nm-killswitch enable` writes these keys, `disable` removes them, and the
// dispatcher hook reads them when NetworkManager starts the VPN.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/libnm.h"
#include "base/status.h"
#include "rules/policy.h"

namespace nmks::dispatch {

inline constexpr char kKeyPrefix[] = "nm-killswitch.";
inline constexpr char kKeyMode[] = "nm-killswitch.mode";
inline constexpr char kKeyAllowLan[] = "nm-killswitch.allow-lan";
inline constexpr char kKeyBlockAtBoot[] = "nm-killswitch.block-at-boot";

struct OptIn {
  Mode mode = Mode::kOn;
  bool allow_lan = false;
  bool block_at_boot = false;
  bool operator==(const OptIn&) const = default;
};

// What a connection's user data says. `opted_in` is false when there is no
// nm-killswitch.* key at all. A bad value or an unknown nm-killswitch.* key
// never switches the kill switch off: the connection stays opted in with
// the strictest runtime choice (lockdown, LAN blocked, not at boot), and
// `problems` names each bad key.
struct OptInReading {
  bool opted_in = false;
  OptIn options;
  std::vector<std::string> problems;  // translated, one a key
};
OptInReading ReadOptIn(NMConnection* connection);

// Replaces every nm-killswitch.* key of `connection` by the three keys for
// `options`; adds the user setting if there is none.
Status WriteOptIn(NMConnection* connection, const OptIn& options);
// Removes every nm-killswitch.* key; true if there was one.
bool ClearOptIn(NMConnection* connection);

// The kinds of connection the dispatcher hook knows how to protect.
enum class Kind : uint8_t { kOpenVpn, kOpenConnect, kWireGuard };
const char* KindName(Kind kind);

inline constexpr char kOwnServiceType[] = "org.freedesktop.NetworkManager.killswitch";
inline constexpr char kOpenVpnServiceType[] = "org.freedesktop.NetworkManager.openvpn";
inline constexpr char kOpenConnectServiceType[] = "org.freedesktop.NetworkManager.openconnect";

// A connection of nm-killswitch's own VPN type (its kill switch is built in).
bool IsOwnVpn(NMConnection* connection);
// The kind of `connection`, or why the hook cannot protect it (our own VPN
// type included, with a message saying it needs no opt-in).
Result<Kind> ProtectableKind(NMConnection* connection);

}  // namespace nmks::dispatch
