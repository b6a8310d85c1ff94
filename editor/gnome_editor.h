// The one call between the GTK-free editor plugin (editor_plugin.cc, loaded
// by nmcli and every other libnm client) and the GNOME editor, which the
// plugin loads only when a program asks for an editor: editor/gtk/ built
// against GTK 3 and libnma in a GTK 3 program such as nm-connection-editor,
// the same built against GTK 4 and libnma-gtk4 in a GTK 4 program such as
// GNOME Settings. Both have the same factory. All modules are installed in the same directory;
// the plugin opens the editor by absolute path next to itself.
#pragma once

#include "base/libnm.h"

namespace nmks::wg {

inline constexpr char kGnomeEditorFile[] = "libnm-gtk3-vpn-plugin-killswitch-editor.so";
inline constexpr char kGnomeEditorGtk4File[] = "libnm-gtk4-vpn-plugin-killswitch-editor.so";
inline constexpr char kGnomeEditorFactory[] = "nm_vpn_editor_factory_killswitch";

// The factory's type: a new editor for `connection`, or nullptr and `error`.
using GnomeEditorFactory = NMVpnEditor* (*)(NMVpnEditorPlugin* plugin, NMConnection* connection,
                                            GError** error);

}  // namespace nmks::wg
