// libnm-vpn-plugin-killswitch.so: the NMVpnEditorPlugin that libnm loads
// for connections of our VPN type (nmcli connection import/export, GNOME
// Settings). It names the VPN type and imports and exports wg-quick files;
// it has no graphical editor yet. The only exported symbol is
// nm_vpn_editor_plugin_factory (see editor_plugin.ver).
#include <gmodule.h>
#include <libintl.h>

#include "nm-plugin/import_export.h"
#include "nm-plugin/libnm.h"
#include "nm-plugin/wg_connection.h"
#include "rules/i18n.h"

struct NmksEditorPlugin {
  GObject parent;
};
struct NmksEditorPluginClass {
  GObjectClass parent_class;
};

namespace {

enum { kPropName = 1, kPropDescription, kPropService };

void SetError(GError** error, const std::string& message) {
  g_set_error_literal(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_FAILED, message.c_str());
}

NMConnection* ImportFromFile(NMVpnEditorPlugin* /*plugin*/, const char* path, GError** error) {
  auto connection = nmks::wg::ImportFile(path);
  if (!connection.ok()) {
    SetError(error, connection.message());
    return nullptr;
  }
  return std::move(connection).value().release();
}

gboolean ExportToFile(NMVpnEditorPlugin* /*plugin*/, const char* path, NMConnection* connection,
                      GError** error) {
  if (nmks::Status s = nmks::wg::ExportFile(path, connection); !s.ok()) {
    SetError(error, s.message());
    return FALSE;
  }
  return TRUE;
}

char* GetSuggestedFilename(NMVpnEditorPlugin* /*plugin*/, NMConnection* connection) {
  std::string name = nmks::wg::SuggestedFilename(connection);
  return name.empty() ? nullptr : g_strdup(name.c_str());
}

NMVpnEditorPluginCapability GetCapabilities(NMVpnEditorPlugin* /*plugin*/) {
  return static_cast<NMVpnEditorPluginCapability>(NM_VPN_EDITOR_PLUGIN_CAPABILITY_IMPORT |
                                                  NM_VPN_EDITOR_PLUGIN_CAPABILITY_EXPORT |
                                                  NM_VPN_EDITOR_PLUGIN_CAPABILITY_IPV6);
}

NMVpnEditor* GetEditor(NMVpnEditorPlugin* /*plugin*/, NMConnection* /*connection*/,
                       GError** error) {
  SetError(error, _("this VPN type has no graphical editor yet: change its settings with nmcli "
                    "(nmcli connection modify NAME vpn.data ...)"));
  return nullptr;
}

void GetProperty(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  switch (id) {
    case kPropName:
      g_value_set_string(value, _("WireGuard with kill switch"));
      break;
    case kPropDescription:
      g_value_set_string(value, _("WireGuard VPN that blocks all traffic outside the tunnel "
                                  "while the VPN is meant to be up"));
      break;
    case kPropService:
      g_value_set_string(value, nmks::wg::kServiceType);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
}

void InterfaceInit(NMVpnEditorPluginInterface* iface) {
  iface->get_editor = GetEditor;
  iface->get_capabilities = GetCapabilities;
  iface->import_from_file = ImportFromFile;
  iface->export_to_file = ExportToFile;
  iface->get_suggested_filename = GetSuggestedFilename;
}

void ClassInit(gpointer klass, gpointer /*data*/) {
  GObjectClass* object_class = G_OBJECT_CLASS(klass);
  object_class->get_property = GetProperty;
  g_object_class_override_property(object_class, kPropName, NM_VPN_EDITOR_PLUGIN_NAME);
  g_object_class_override_property(object_class, kPropDescription,
                                   NM_VPN_EDITOR_PLUGIN_DESCRIPTION);
  g_object_class_override_property(object_class, kPropService, NM_VPN_EDITOR_PLUGIN_SERVICE);
}

GType EditorPluginType() {
  static gsize type = 0;
  if (g_once_init_enter(&type)) {
    GType t = g_type_register_static_simple(G_TYPE_OBJECT, "NmksEditorPlugin",
                                            sizeof(NmksEditorPluginClass), ClassInit,
                                            sizeof(NmksEditorPlugin), nullptr, GTypeFlags(0));
    static const GInterfaceInfo kEditorPlugin = {
        [](gpointer iface, gpointer) {
          InterfaceInit(static_cast<NMVpnEditorPluginInterface*>(iface));
        },
        nullptr, nullptr};
    g_type_add_interface_static(t, NM_TYPE_VPN_EDITOR_PLUGIN, &kEditorPlugin);
    g_once_init_leave(&type, t);
  }
  return type;
}

}  // namespace

extern "C" G_MODULE_EXPORT NMVpnEditorPlugin* nm_vpn_editor_plugin_factory(GError** error) {
  g_return_val_if_fail(!error || !*error, nullptr);
  bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
  return NM_VPN_EDITOR_PLUGIN(g_object_new(EditorPluginType(), nullptr));
}
