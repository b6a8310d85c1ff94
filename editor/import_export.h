// What the editor plugin does with files: a wg-quick file becomes a new
// connection of our VPN type, and a connection of ours becomes a wg-quick
// file again, keys included. No GTK and no GObject type here; the plugin
// (editor_plugin.cc) only adapts these to NMVpnEditorPlugin.
#pragma once

#include "base/libnm.h"

#include <string>

#include "base/glib_ptr.h"
#include "base/status.h"

namespace nmks::wg {

// Reads the wg-quick file at `path` (at most kMaxFileBytes are read) into a
// new connection: id from the file name without ".conf", a new uuid, no
// interface name, default kill-switch options. Errors start with the file
// name.
Result<GObjectPtr<NMConnection>> ImportFile(const char* path);

// Writes `connection` to `path` as a wg-quick file with mode 0600, replacing
// it atomically. When the connection is a saved one (NMRemoteConnection)
// without its keys, they are fetched from NetworkManager first; when they
// cannot be had, nothing is written. The kill-switch options have no place
// in a wg-quick file and are left out.
Status ExportFile(const char* path, NMConnection* connection);

// "<id>.conf", with any '/' in the id made '_'. Empty if the connection has
// no id.
std::string SuggestedFilename(NMConnection* connection);

}  // namespace nmks::wg
