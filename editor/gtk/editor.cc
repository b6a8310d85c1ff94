// The NMVpnEditor that GNOME programs show for a connection of our VPN
// type, built twice: as libnm-gtk3-vpn-plugin-killswitch-editor.so for GTK 3
// programs (nm-connection-editor) and, with NMKS_GTK4 defined, as
// libnm-gtk4-vpn-plugin-killswitch-editor.so for GTK 4 programs (GNOME
// Settings 42 and later). The GTK-free editor plugin loads the one that
// matches the program and calls its one exported function,
// nm_vpn_editor_factory_killswitch (see gnome_editor.h and editor.ver). The
// page itself is EditorPage, written once for both.
#include <gmodule.h>
#include <gtk/gtk.h>
#include <libintl.h>

#include <memory>
#include <new>
#include <type_traits>

#include "base/i18n.h"
#include "base/libnm.h"
#include "editor/gnome_editor.h"
#include "editor/gtk/editor_page.h"

struct NmksGtkEditor {
  GObject parent;
  // Constructed in InstanceInit, destroyed in Finalize; reset in Dispose.
  std::unique_ptr<nmks::wg::EditorPage> page;
};
struct NmksGtkEditorClass {
  GObjectClass parent_class;
};

namespace {

GType EditorType();
GObjectClass* parent_class = nullptr;

NmksGtkEditor* Self(gpointer object) {
  return G_TYPE_CHECK_INSTANCE_CAST(object, EditorType(), NmksGtkEditor);
}

GObject* GetWidget(NMVpnEditor* editor) {
  NmksGtkEditor* self = Self(editor);
  return self->page ? G_OBJECT(self->page->widget()) : nullptr;
}

gboolean UpdateConnection(NMVpnEditor* editor, NMConnection* connection, GError** error) {
  NmksGtkEditor* self = Self(editor);
  g_return_val_if_fail(self->page, FALSE);
  return self->page->Save(connection, error) ? TRUE : FALSE;
}

void InstanceInit(GTypeInstance* instance, gpointer /*klass*/) {
  new (&Self(instance)->page) std::unique_ptr<nmks::wg::EditorPage>();
}

void Dispose(GObject* object) {
  Self(object)->page.reset();
  parent_class->dispose(object);
}

void Finalize(GObject* object) {
  using Page = std::unique_ptr<nmks::wg::EditorPage>;
  Self(object)->page.~Page();
  parent_class->finalize(object);
}

void ClassInit(gpointer klass, gpointer /*data*/) {
  GObjectClass* object_class = G_OBJECT_CLASS(klass);
  parent_class = G_OBJECT_CLASS(g_type_class_peek_parent(klass));
  object_class->dispose = Dispose;
  object_class->finalize = Finalize;
}

void EditorInterfaceInit(gpointer iface, gpointer /*data*/) {
  auto* editor = static_cast<NMVpnEditorInterface*>(iface);
  editor->get_widget = GetWidget;
  editor->update_connection = UpdateConnection;
}

GType EditorType() {
  static gsize type = 0;
  if (g_once_init_enter(&type)) {
#ifdef NMKS_GTK4
    constexpr char kTypeName[] = "NmksGtk4Editor";
#else
    constexpr char kTypeName[] = "NmksGtkEditor";
#endif
    GType t = g_type_register_static_simple(G_TYPE_OBJECT, kTypeName, sizeof(NmksGtkEditorClass),
                                            ClassInit, sizeof(NmksGtkEditor), InstanceInit,
                                            GTypeFlags(0));
    static const GInterfaceInfo kEditor = {EditorInterfaceInit, nullptr, nullptr};
    g_type_add_interface_static(t, NM_TYPE_VPN_EDITOR, &kEditor);
    g_once_init_leave(&type, t);
  }
  return type;
}

}  // namespace

extern "C" G_MODULE_EXPORT NMVpnEditor* nm_vpn_editor_factory_killswitch(
    NMVpnEditorPlugin* /*plugin*/, NMConnection* connection, GError** error) {
  g_return_val_if_fail(NM_IS_CONNECTION(connection), nullptr);
  g_return_val_if_fail(!error || !*error, nullptr);
  bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
  if (!gdk_display_get_default()) {
    // Not a running GTK program: widgets cannot be made here.
#ifdef NMKS_GTK4
    const char* message =
        _("the GNOME editor for nm-killswitch runs only inside a GTK 4 program "
          "with a display, such as GNOME Settings");
#else
    const char* message =
        _("the GNOME editor for nm-killswitch runs only inside a GTK 3 program "
          "with a display, such as nm-connection-editor");
#endif
    g_set_error_literal(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_FAILED, message);
    return nullptr;
  }
  auto* self = static_cast<NmksGtkEditor*>(g_object_new(EditorType(), nullptr));
  self->page = std::make_unique<nmks::wg::EditorPage>(
      connection, [self] { g_signal_emit_by_name(self, "changed"); });
  return NM_VPN_EDITOR(self);
}

// The factory has the type the plugin calls it through.
static_assert(
    std::is_same_v<decltype(&nm_vpn_editor_factory_killswitch), nmks::wg::GnomeEditorFactory>);
