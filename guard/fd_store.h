// The service manager's file descriptor store (systemd's FDSTORE=1): the
// guard hands it the netlink socket that owns the kill-switch table, so the
// socket, and with it the table's ownership, outlives a guard that crashes
// or is restarted; the next guard gets the socket back through LISTEN_FDS.
// While the service manager holds it, no other process can delete, flush or
// change the table, even with no guard running. Without a service manager
// (NOTIFY_SOCKET unset) nothing is kept.
#pragma once

#include <string>

#include "base/status.h"

namespace nmks {

inline constexpr char kOwnerSocketName[] = "nft-owner";

// The socket an earlier guard left in the store (the descriptor passed as
// LISTEN_FDS and named kOwnerSocketName), or -1. Other passed descriptors
// are closed; the LISTEN_* variables are removed from the environment.
int TakeKeptSocket();

// Asks the service manager to keep `fd` under kOwnerSocketName, replacing
// what it kept before. Returns false (and says why in `why`) when there is
// no service manager to ask or it could not be reached.
bool KeepSocket(int fd, std::string* why);

}  // namespace nmks
