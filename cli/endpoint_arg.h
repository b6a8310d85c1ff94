// Reads endpoints the way a person writes them on the command line: an
// address or a host name, a port and an optional protocol. A host name is
// resolved to every address it has; one that does not resolve is an error.
#pragma once

#include <string>
#include <vector>

#include "rules/policy.h"
#include "rules/status.h"

namespace nmks::cli {

Result<std::vector<Endpoint>> ParseEndpointArg(const std::string& text);

// One endpoint per line; blank lines and lines starting with # are skipped.
Result<std::vector<Endpoint>> ReadEndpointFile(const std::string& path);

}  // namespace nmks::cli
