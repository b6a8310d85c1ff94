// wireguard-go's configuration protocol (the "cross-platform userspace
// implementation" UAPI of wireguard.com/xplatform): one request per
// connection to the device's unix socket, then its reply, ending in
// "errno=N". A set is not transactional, so callers send whole states.
#pragma once

#include <string>

#include "base/status.h"
#include "service/device.h"

namespace nmks::wg {

// The body of a "set=1" request that replaces the device's whole state.
std::string EncodeSet(const DeviceConfig& config);
// The body of a "set=1" request that only sends each peer's endpoint again.
std::string EncodeEndpointRefresh(const DeviceConfig& config);

// Sends `set=1\n<body>\n` and reads the reply. An error names the errno;
// it never contains the request (which holds keys).
Status UapiSet(const std::string& socket_path, const std::string& body, int timeout_ms = 2000);
// Sends `get=1` and returns the reply's key=value lines.
Result<std::string> UapiGet(const std::string& socket_path, int timeout_ms = 2000);

}  // namespace nmks::wg
