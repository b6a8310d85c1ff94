// Finds a NetworkManager connection the way a person names it on the
// command line (nmcli's way: its name, its UUID or its D-Bus path), and
// saves changes to it through NetworkManager, which checks the caller's
// right to change it (another user's or a system connection needs
// NetworkManager's polkit permission).
#pragma once

#include <memory>
#include <string>

#include "base/glib_ptr.h"
#include "base/libnm.h"
#include "base/status.h"

namespace nmks::cli {

using ClientPtr = GObjectPtr<NMClient>;

Result<ClientPtr> ConnectNetworkManager();

// The connection named `name` (owned by `client`). A name that fits
// several connections is an error listing their UUIDs.
Result<NMRemoteConnection*> FindConnection(NMClient* client, const std::string& name);

// A connection named on the command line and the client that owns it.
struct NamedConnection {
  ClientPtr client;
  NMRemoteConnection* connection = nullptr;  // owned by client
  std::string name;                          // printable, for messages (ConnectionName)
};
// ConnectNetworkManager, then FindConnection.
Result<NamedConnection> ConnectAndFind(const std::string& name);

// Saves the changes made to `connection` (to disk, as nmcli modify does).
// NetworkManager's refusal comes back as a message that says so.
Status SaveConnection(NMRemoteConnection* connection);

// Whether `connection` is active right now.
bool IsActive(NMClient* client, NMRemoteConnection* connection);

// The connection's name, printable, for messages.
std::string ConnectionName(NMRemoteConnection* connection);

}  // namespace nmks::cli
