// NetworkManager hands out connections without their secrets; exporting one
// needs its keys. FetchVpnSecrets asks NetworkManager for the "vpn" secrets
// of a saved connection and puts them into a copy the caller owns.
#pragma once

#include "base/libnm.h"

#include "base/status.h"

namespace nmks::wg {

// Asks NetworkManager (over the D-Bus connection of `remote`'s NMClient)
// for the vpn secrets of `remote` and adds them to `into`. Blocks: runs the
// client's main context until the answer (or the D-Bus timeout) arrives, so
// call it from the thread that runs that context (nmcli's main thread).
Status FetchVpnSecrets(NMRemoteConnection* remote, NMConnection* into);

}  // namespace nmks::wg
