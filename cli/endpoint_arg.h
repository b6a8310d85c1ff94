// Reads endpoints the way a person writes them on the command line: an
// address or a host name, a port and an optional protocol. A host name is
// resolved as the VPN service resolves its servers (servers/resolve.h: to
// every address it has, within 10 s, never loopback or multicast); one
// that gives no usable address is an error.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "rules/policy.h"

namespace nmks::cli {

Result<std::vector<Endpoint>> ParseEndpointArg(const std::string& text);

// Bounds of an endpoints file: room for kMaxEndpoints lines with comments.
inline constexpr size_t kMaxEndpointFileBytes = 16 * 1024 * 1024;
inline constexpr size_t kMaxEndpointLineBytes = 1024;

// One endpoint per line; blank lines and lines starting with # are skipped.
// A file larger than kMaxEndpointFileBytes or a line longer than
// kMaxEndpointLineBytes is an error (read no further than that).
Result<std::vector<Endpoint>> ReadEndpointFile(const std::string& path);

}  // namespace nmks::cli
