// libnm-vpn-plugin-killswitch.so: the NMVpnEditorPlugin that libnm loads
// for connections of our VPN type (nmcli connection import/export, GNOME
// Settings). It names the VPN type and imports and exports wg-quick files
// without GTK; the graphical editor lives in its own modules (editor/gtk/,
// built once for GTK 3 programs and once for GTK 4 ones) and is loaded only
// when a program asks for it (see gnome_editor.h). The only exported symbol is
// nm_vpn_editor_plugin_factory (see editor_plugin.ver).
#include <dlfcn.h>
#include <gmodule.h>
#include <libintl.h>

#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "base/glib_ptr.h"
#include "base/i18n.h"
#include "base/libnm.h"
#include "editor/gnome_editor.h"
#include "editor/import_export.h"
#include "wireguard/wg_connection.h"

struct NmksEditorPlugin {
  GObject parent;
};
struct NmksEditorPluginClass {
  GObjectClass parent_class;
};

namespace {

using nmks::Format;
using nmks::Result;
using nmks::Status;
using nmks::GFreePtr;
using nmks::wg::GnomeEditorFactory;
using nmks::wg::kGnomeEditorFactory;
using nmks::wg::kGnomeEditorFile;
using nmks::wg::kGnomeEditorGtk4File;

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

// The directory this module was loaded from (absolute, as libnm loads it
// from the .name file), or "" when it cannot be told.
std::string OwnDirectory() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&OwnDirectory), &info) == 0 || !info.dli_fname ||
      !g_path_is_absolute(info.dli_fname)) {
    return "";
  }
  GFreePtr<char> dir(g_path_get_dirname(info.dli_fname));
  return dir.get();
}

// True in a GTK 4 program (GNOME Settings 42 and later): it gets the GTK 4
// editor; GTK 3 must not be loaded into it, the process would abort.
bool InGtk4Program() {
  return dlsym(RTLD_DEFAULT, "gtk_container_add") == nullptr &&
         dlsym(RTLD_DEFAULT, "gtk_widget_get_first_child") != nullptr;
}

// Opens the GNOME editor `file` (kGnomeEditorFile or kGnomeEditorGtk4File)
// next to this module once. Success is kept for the life of the process
// (the editor registers GObject types, so it can never be unloaded); a
// failure is retried on the next call, so installing the package while a
// program runs is enough.
Result<GnomeEditorFactory> LoadGnomeEditor(const char* file) {
  static std::mutex mutex;
  static std::map<std::string, GnomeEditorFactory> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = loaded.find(file); it != loaded.end()) return it->second;

  std::string dir = OwnDirectory();
  if (dir.empty()) {
    return Status::Error(
        _("the GNOME editor for nm-killswitch cannot be found: the directory "
          "of the nm-killswitch editor plugin is not known"));
  }
  GFreePtr<char> path(g_build_filename(dir.c_str(), file, nullptr));
  if (!g_file_test(path.get(), G_FILE_TEST_EXISTS)) {
    return Status::Error(
        _("the GNOME editor for nm-killswitch is not installed (package "
          "network-manager-killswitch-gnome)"));
  }
  void* module = dlopen(path.get(), RTLD_LAZY | RTLD_LOCAL);
  if (!module) {
    const char* why = dlerror();
    return Status::Error(Format(_("the GNOME editor for nm-killswitch cannot be loaded: %s"),
                                why ? why : path.get()));
  }
  void* symbol = dlsym(module, kGnomeEditorFactory);
  if (!symbol) {
    dlclose(module);
    return Status::Error(Format(_("the GNOME editor for nm-killswitch (%s) is broken: it has "
                                  "no %s"),
                                path.get(), kGnomeEditorFactory));
  }
  auto factory = reinterpret_cast<GnomeEditorFactory>(symbol);
  loaded.emplace(file, factory);
  return factory;
}

NMVpnEditor* GetEditor(NMVpnEditorPlugin* plugin, NMConnection* connection, GError** error) {
  g_return_val_if_fail(NM_IS_CONNECTION(connection), nullptr);
  g_return_val_if_fail(!error || !*error, nullptr);
  auto factory = LoadGnomeEditor(InGtk4Program() ? kGnomeEditorGtk4File : kGnomeEditorFile);
  if (!factory.ok()) {
    SetError(error, factory.message());
    return nullptr;
  }
  NMVpnEditor* editor = factory.value()(plugin, connection, error);
  if (!editor && error && !*error) {
    SetError(error, _("the GNOME editor for nm-killswitch could not be created"));
  }
  return editor;
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
