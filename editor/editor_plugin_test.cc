// The editor plugin as nmcli uses it: libnm reads the built .name file
// (plugin path pointed at this build), loads libnm-vpn-plugin-killswitch.so,
// and imports and exports through NMVpnEditorPlugin.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/glib_ptr.h"
#include "base/libnm.h"
#include "wireguard/wg_config.h"
#include "wireguard/wg_connection.h"
#include "wireguard/wg_test_files.h"

namespace nmks::wg {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class EditorPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir_template[] = "/tmp/nmks-editor-plugin-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    // The built .name file, with the plugin path pointed at the build dir.
    std::string build = NMKS_BUILD_DIR "/editor/";
    std::string name = ReadFile(NMKS_BUILD_DIR "/service/nm-killswitch-service.name");
    size_t plugin = name.find("\nplugin=");
    ASSERT_NE(plugin, std::string::npos);
    name.replace(plugin, name.find('\n', plugin + 1) - plugin,
                 "\nplugin=" + build + "libnm-vpn-plugin-killswitch.so");
    name_file_ = dir_ + "/nm-killswitch-service.name";
    std::ofstream(name_file_) << name;

    GError* error = nullptr;
    info_.reset(nm_vpn_plugin_info_new_from_file(name_file_.c_str(), &error));
    ASSERT_TRUE(info_) << (error ? error->message : "");
    plugin_ = nm_vpn_plugin_info_load_editor_plugin(info_.get(), &error);  // owned by info_
    ASSERT_TRUE(plugin_) << (error ? error->message : "");
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  GObjectPtr<NMConnection> Import(const std::string& path, std::string* message = nullptr) {
    GError* error = nullptr;
    GObjectPtr<NMConnection> connection(nm_vpn_editor_plugin_import(plugin_, path.c_str(), &error));
    if (message) *message = error ? error->message : "";
    g_clear_error(&error);
    return connection;
  }

  std::string dir_;
  std::string name_file_;
  GObjectPtr<NMVpnPluginInfo> info_;
  NMVpnEditorPlugin* plugin_ = nullptr;
};

TEST_F(EditorPluginTest, NameFileDescribesOurService) {
  EXPECT_STREQ(nm_vpn_plugin_info_get_name(info_.get()), "killswitch");
  EXPECT_STREQ(nm_vpn_plugin_info_get_service(info_.get()), kServiceType);
  EXPECT_TRUE(nm_vpn_plugin_info_supports_multiple(info_.get()));
  const char* program = nm_vpn_plugin_info_get_program(info_.get());
  ASSERT_NE(program, nullptr);
  EXPECT_TRUE(g_str_has_suffix(program, "/nm-killswitch-service"));

  // nmcli's "type killswitch" finds it.
  GSList* list = nullptr;
  ASSERT_TRUE(nm_vpn_plugin_info_list_add(&list, info_.get(), nullptr));
  GFreePtr<char> service(nm_vpn_plugin_info_list_find_service_type(list, "killswitch"));
  EXPECT_STREQ(service.get(), kServiceType);
  g_slist_free_full(list, g_object_unref);
}

TEST_F(EditorPluginTest, PluginDescribesItself) {
  GFreePtr<char> name, description, service;
  g_object_get(plugin_, NM_VPN_EDITOR_PLUGIN_NAME, &name, NM_VPN_EDITOR_PLUGIN_DESCRIPTION,
               &description, NM_VPN_EDITOR_PLUGIN_SERVICE, &service, nullptr);
  EXPECT_STRNE(name.get(), "");
  EXPECT_STRNE(description.get(), "");
  EXPECT_STREQ(service.get(), kServiceType);
  auto caps = nm_vpn_editor_plugin_get_capabilities(plugin_);
  EXPECT_TRUE(caps & NM_VPN_EDITOR_PLUGIN_CAPABILITY_IMPORT);
  EXPECT_TRUE(caps & NM_VPN_EDITOR_PLUGIN_CAPABILITY_EXPORT);
  EXPECT_TRUE(caps & NM_VPN_EDITOR_PLUGIN_CAPABILITY_IPV6);
}

TEST_F(EditorPluginTest, GetEditorWithoutTheGnomeEditorSaysWhatToInstall) {
  // The build puts the GNOME editor in editor/gtk/, not next to the
  // plugin, so here it is absent as on a machine without the package (and
  // this process never loads GTK).
  GObjectPtr<NMConnection> connection(nm_simple_connection_new());
  GError* error = nullptr;
  EXPECT_EQ(nm_vpn_editor_plugin_get_editor(plugin_, connection.get(), &error), nullptr);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(std::string(error->message),
            "the GNOME editor for nm-killswitch is not installed (package "
            "network-manager-killswitch-gnome)");
  g_clear_error(&error);
}

TEST_F(EditorPluginTest, ImportsAndExportsEveryGoodFile) {
  for (const std::string& file : TestFiles("good")) {
    SCOPED_TRACE(file);
    auto connection = Import(TestFilePath("good/" + file));
    ASSERT_TRUE(connection);
    GError* error = nullptr;
    EXPECT_TRUE(nm_connection_normalize(connection.get(), nullptr, nullptr, &error))
        << (error ? error->message : "");
    g_clear_error(&error);
    std::string id = file.substr(0, file.size() - 5);  // without ".conf"
    EXPECT_EQ(nm_connection_get_id(connection.get()), id);
    EXPECT_EQ(nm_connection_get_interface_name(connection.get()), nullptr);
    EXPECT_STREQ(nm_connection_get_connection_type(connection.get()), "vpn");
    GFreePtr<char> suggested(
        nm_vpn_editor_plugin_get_suggested_filename(plugin_, connection.get()));
    EXPECT_EQ(std::string(suggested.get()), file);

    std::string out = dir_ + "/" + suggested.get();
    ASSERT_TRUE(nm_vpn_editor_plugin_export(plugin_, out.c_str(), connection.get(), &error))
        << (error ? error->message : "");
    struct stat st {};
    ASSERT_EQ(stat(out.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "the file holds the private key";
    auto exported = ParseWgQuick(ReadFile(out));
    auto original = ParseWgQuick(ReadTestFile("good/" + file));
    ASSERT_TRUE(exported.ok()) << exported.message();
    EXPECT_EQ(exported.value(), original.value());

    // And the exported file imports to the same connection settings.
    auto again = Import(out);
    ASSERT_TRUE(again);
    auto a = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
    auto b = FromVpnSetting(nm_connection_get_setting_vpn(again.get()));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a.value(), b.value());
  }
}

TEST_F(EditorPluginTest, ImportErrorNamesFileAndLine) {
  std::string message;
  auto connection = Import(TestFilePath("bad/postup.conf"), &message);
  EXPECT_FALSE(connection);
  EXPECT_EQ(message.rfind("postup.conf: line 5: PostUp runs a shell command", 0), 0u) << message;

  connection = Import(dir_ + "/missing.conf", &message);
  EXPECT_FALSE(connection);
  EXPECT_NE(message.find("missing.conf: "), std::string::npos) << message;

  // A huge file is refused after reading just past the limit.
  std::string huge = dir_ + "/huge.conf";
  {
    std::ofstream out(huge);
    std::string line(1023, '#');
    for (int i = 0; i < 4096; ++i) out << line << '\n';
  }
  connection = Import(huge, &message);
  EXPECT_FALSE(connection);
  EXPECT_NE(message.find("huge.conf: line 1025: the file is larger"), std::string::npos) << message;
}

TEST_F(EditorPluginTest, ExportWithoutKeysWritesNothing) {
  auto connection = Import(TestFilePath("good/psk.conf"));
  ASSERT_TRUE(connection);
  nm_connection_clear_secrets(connection.get());
  std::string out = dir_ + "/nokeys.conf";
  GError* error = nullptr;
  EXPECT_FALSE(nm_vpn_editor_plugin_export(plugin_, out.c_str(), connection.get(), &error));
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error->message).find("private key is not available"), std::string::npos)
      << error->message;
  g_clear_error(&error);
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST_F(EditorPluginTest, ExportRefusesAnotherVpnType) {
  auto connection = Import(TestFilePath("good/psk.conf"));
  ASSERT_TRUE(connection);
  g_object_set(nm_connection_get_setting_vpn(connection.get()), NM_SETTING_VPN_SERVICE_TYPE,
               "org.freedesktop.NetworkManager.openvpn", nullptr);
  std::string out = dir_ + "/other.conf";
  GError* error = nullptr;
  EXPECT_FALSE(nm_vpn_editor_plugin_export(plugin_, out.c_str(), connection.get(), &error));
  g_clear_error(&error);
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace nmks::wg
