// The one call between the GTK-free editor plugin (editor_plugin.cc, loaded
// by nmcli and every other libnm client) and the GNOME editor
// (nm-plugin/gtk/, GTK 3 and libnma), which the plugin loads only when a
// program asks for an editor. Both modules are installed in the same
// directory; the plugin opens the editor by absolute path next to itself.
#pragma once

#include "nm-plugin/libnm.h"

namespace nmks::wg {

inline constexpr char kGnomeEditorFile[] = "libnm-gtk3-vpn-plugin-killswitch-editor.so";
inline constexpr char kGnomeEditorFactory[] = "nm_vpn_editor_factory_killswitch";

// The factory's type: a new editor for `connection`, or nullptr and `error`.
using GnomeEditorFactory = NMVpnEditor* (*)(NMVpnEditorPlugin* plugin, NMConnection* connection,
                                            GError** error);

}  // namespace nmks::wg
