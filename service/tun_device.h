// A persistent tun interface: it outlives the process that serves it, so
// when wireguard-go dies and is started again, the interface, its addresses
// and NetworkManager's routes through it stay where they are.
#pragma once

#include <string>

#include "base/status.h"

namespace nmks::wg {

// Creates the tun interface `name` (or takes the existing one) and marks it
// persistent, with the flags wireguard-go opens it with.
Status CreatePersistentTun(const std::string& name);
// Clears the persistent flag; the interface goes when no process holds it.
Status RemovePersistentTun(const std::string& name);
// True if an interface of that name exists.
bool InterfaceExists(const std::string& name);

}  // namespace nmks::wg
