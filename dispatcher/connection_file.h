// A connection profile read from NetworkManager's own keyfile, without
// NetworkManager: what the dispatcher hook falls back to when NetworkManager
// cannot be asked at vpn-pre-up or pre-up, so that an opted-in connection
// still gets its kill switch. Only a regular file owned by root (`owner`),
// not writable by group or others, lying directly in one of NetworkManager's
// profile directories is read; nothing else is trusted.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/status.h"
#include "dispatcher/hook.h"

namespace nmks::dispatch {

// Where NetworkManager keeps keyfiles: /etc, /run (in-memory profiles) and
// /usr/lib (read-only profiles) .../NetworkManager/system-connections.
const std::vector<std::string>& SystemConnectionDirs();

inline constexpr size_t kMaxConnectionFileBytes = 1024 * 1024;

Result<ConnectionPtr> ReadConnectionFile(const std::string& path,
                                         const std::vector<std::string>& dirs, uid_t owner);

}  // namespace nmks::dispatch
