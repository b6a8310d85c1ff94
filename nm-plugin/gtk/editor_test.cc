// The GNOME editor as a GTK 3 program gets it: libnm reads the .name file,
// loads the GTK-free editor plugin, and nm_vpn_editor_plugin_get_editor()
// has the plugin load the GTK editor from the plugin's own directory. The
// two modules are copied from the build into one directory, as they are
// installed. Needs a display: meson runs this under xvfb-run; without one
// the tests are skipped, and fail when CI=true.
#include <gtest/gtest.h>
#include <gtk/gtk.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "nm-plugin/glib_ptr.h"
#include "nm-plugin/gnome_editor.h"
#include "nm-plugin/libnm.h"
#include "nm-plugin/wg_connection.h"
#include "nm-plugin/wg_test_files.h"

namespace nmks::wg {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool DisplayReady() {
  static const bool ready = gtk_init_check(nullptr, nullptr);
  return ready;
}

// The widget named `name` under `root`, or nullptr.
GtkWidget* Find(GtkWidget* root, const std::string& name) {
  if (name == gtk_widget_get_name(root)) return root;
  if (!GTK_IS_CONTAINER(root)) return nullptr;
  GList* children = gtk_container_get_children(GTK_CONTAINER(root));
  GtkWidget* found = nullptr;
  for (GList* l = children; l && !found; l = l->next) found = Find(GTK_WIDGET(l->data), name);
  g_list_free(children);
  return found;
}

std::string DataItem(NMConnection* connection, const std::string& key) {
  const char* value =
      nm_setting_vpn_get_data_item(nm_connection_get_setting_vpn(connection), key.c_str());
  return value ? value : "(none)";
}

class GnomeEditorTest : public ::testing::Test {
 protected:
  // Once per process: a module is loaded once and never unloaded.
  static void SetUpTestSuite() {
    char dir_template[] = "/tmp/nmks-gnome-editor-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = new std::string(dir_template);
    std::string build = NMKS_BUILD_DIR "/nm-plugin/";
    std::string plugin = *dir_ + "/libnm-vpn-plugin-killswitch.so";
    fs::copy_file(build + "libnm-vpn-plugin-killswitch.so", plugin);
    fs::copy_file(build + "gtk/" + kGnomeEditorFile, *dir_ + "/" + kGnomeEditorFile);
    std::string name = ReadFile(build + "nm-killswitch-service.name");
    size_t at = name.find("\nplugin=");
    ASSERT_NE(at, std::string::npos);
    name.replace(at, name.find('\n', at + 1) - at, "\nplugin=" + plugin);
    std::string name_file = *dir_ + "/nm-killswitch-service.name";
    std::ofstream(name_file) << name;

    GError* error = nullptr;
    info_ = nm_vpn_plugin_info_new_from_file(name_file.c_str(), &error);
    ASSERT_TRUE(info_) << (error ? error->message : "");
    plugin_ = nm_vpn_plugin_info_load_editor_plugin(info_, &error);  // owned by info_
    ASSERT_TRUE(plugin_) << (error ? error->message : "");
  }

  static void TearDownTestSuite() {
    if (dir_) fs::remove_all(*dir_);
  }

  void SetUp() override {
    if (!DisplayReady()) {
      const char* ci = getenv("CI");
      if (ci && std::string(ci) == "true") {
        FAIL() << "no display for GTK: run under xvfb-run (packages xvfb, xauth)";
      }
      GTEST_SKIP() << "no display for GTK (DISPLAY unset and xvfb-run not used)";
    }
    ASSERT_TRUE(plugin_);
  }

  void TearDown() override {
    editor_.reset();
    while (gtk_events_pending()) gtk_main_iteration();
  }

  GObjectPtr<NMConnection> Import(const std::string& file) {
    GError* error = nullptr;
    GObjectPtr<NMConnection> connection(
        nm_vpn_editor_plugin_import(plugin_, TestFilePath("good/" + file).c_str(), &error));
    EXPECT_TRUE(connection) << (error ? error->message : "");
    g_clear_error(&error);
    return connection;
  }

  // Opens the editor on `connection` the way GNOME does; the page's top
  // widget, or nullptr.
  GtkWidget* Open(NMConnection* connection) {
    GError* error = nullptr;
    editor_.reset(nm_vpn_editor_plugin_get_editor(plugin_, connection, &error));
    EXPECT_TRUE(editor_) << (error ? error->message : "");
    g_clear_error(&error);
    if (!editor_) return nullptr;
    g_signal_connect_swapped(editor_.get(), "changed", G_CALLBACK(+[](int* n) { ++*n; }),
                             &changes_);
    GObject* widget = nm_vpn_editor_get_widget(editor_.get());
    EXPECT_TRUE(widget && GTK_IS_WIDGET(widget));
    return widget && GTK_IS_WIDGET(widget) ? GTK_WIDGET(widget) : nullptr;
  }

  GtkEntry* Entry(GtkWidget* page, const std::string& name) {
    GtkWidget* w = Find(page, name);
    EXPECT_TRUE(w && GTK_IS_ENTRY(w)) << name;
    return w && GTK_IS_ENTRY(w) ? GTK_ENTRY(w) : nullptr;
  }

  // update_connection: "" when it succeeds, else the error's message.
  std::string Update(NMConnection* connection) {
    GError* error = nullptr;
    gboolean ok = nm_vpn_editor_update_connection(editor_.get(), connection, &error);
    std::string message = error ? error->message : "";
    EXPECT_EQ(ok, error == nullptr);
    g_clear_error(&error);
    return ok ? "" : (message.empty() ? "(no message)" : message);
  }

  static std::string* dir_;
  static NMVpnPluginInfo* info_;
  static NMVpnEditorPlugin* plugin_;
  GObjectPtr<NMVpnEditor> editor_;
  int changes_ = 0;
};

std::string* GnomeEditorTest::dir_ = nullptr;
NMVpnPluginInfo* GnomeEditorTest::info_ = nullptr;
NMVpnEditorPlugin* GnomeEditorTest::plugin_ = nullptr;

TEST_F(GnomeEditorTest, ShowsTheConnection) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
  for (const char* key : {kKeyAddress, kKeyDns, "peer.0.public-key", "peer.0.endpoint",
                          "peer.0.allowed-ips", "peer.0.persistent-keepalive"}) {
    GtkEntry* entry = Entry(page, key);
    ASSERT_TRUE(entry);
    EXPECT_STREQ(gtk_entry_get_text(entry), nm_setting_vpn_get_data_item(vpn, key)) << key;
  }
  EXPECT_STREQ(gtk_entry_get_text(Entry(page, "peer.0.endpoint")), "192.0.2.44:51820");
  EXPECT_STREQ(gtk_entry_get_text(Entry(page, kKeyMtu)), "");
  for (const char* key : {kSecretPrivateKey, "peer.0.preshared-key"}) {
    GtkEntry* entry = Entry(page, key);
    ASSERT_TRUE(entry);
    EXPECT_STREQ(gtk_entry_get_text(entry), nm_setting_vpn_get_secret(vpn, key)) << key;
    EXPECT_FALSE(gtk_entry_get_visibility(entry)) << key << " is shown as dots";
  }
  EXPECT_STREQ(gtk_combo_box_get_active_id(GTK_COMBO_BOX(Find(page, kKeyKillSwitch))), "on");
  EXPECT_STREQ(gtk_combo_box_get_active_id(GTK_COMBO_BOX(Find(page, kKeyIpv6))), "auto");
  EXPECT_FALSE(gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(Find(page, kKeyAllowLan))));
  EXPECT_FALSE(gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(Find(page, kKeyBlockAtBoot))));
  EXPECT_EQ(Find(page, "other-peers"), nullptr);

  // Saved untouched, the connection stays the same.
  auto before = FromVpnSetting(vpn);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(Update(connection.get()), "");
  auto after = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(after.ok()) << after.message();
  EXPECT_EQ(after.value(), before.value());
  EXPECT_EQ(changes_, 0);
}

TEST_F(GnomeEditorTest, KillSwitchChoicesWriteVpnData) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  auto before = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(before.ok());
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);

  gtk_combo_box_set_active_id(GTK_COMBO_BOX(Find(page, kKeyKillSwitch)), "lockdown");
  EXPECT_EQ(changes_, 1);
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(Find(page, kKeyAllowLan)), TRUE);
  EXPECT_EQ(changes_, 2);
  gtk_combo_box_set_active_id(GTK_COMBO_BOX(Find(page, kKeyIpv6)), "block");
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(Find(page, kKeyBlockAtBoot)), TRUE);
  EXPECT_EQ(changes_, 4);

  EXPECT_EQ(Update(connection.get()), "");
  EXPECT_EQ(DataItem(connection.get(), kKeyKillSwitch), "lockdown");
  EXPECT_EQ(DataItem(connection.get(), kKeyAllowLan), "yes");
  EXPECT_EQ(DataItem(connection.get(), kKeyIpv6), "block");
  EXPECT_EQ(DataItem(connection.get(), kKeyBlockAtBoot), "yes");
  auto after = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(after.ok()) << after.message();
  EXPECT_EQ(after.value().config, before.value().config);
  Options expected{Options::KillSwitch::kLockdown, true, true, Options::Ipv6::kBlock};
  EXPECT_EQ(after.value().options, expected);
}

TEST_F(GnomeEditorTest, TypingEditsTheTunnel) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  gtk_entry_set_text(Entry(page, "peer.0.endpoint"), " vpn.example.net:443 ");
  gtk_entry_set_text(Entry(page, kKeyMtu), "1380");
  gtk_entry_set_text(Entry(page, "peer.0.preshared-key"), "");
  EXPECT_EQ(changes_, 3);
  EXPECT_EQ(Update(connection.get()), "");
  auto after = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(after.ok()) << after.message();
  ASSERT_TRUE(after.value().config.peers.at(0).endpoint);
  EXPECT_EQ(after.value().config.peers[0].endpoint->ToString(), "vpn.example.net:443");
  EXPECT_EQ(after.value().config.mtu.value_or(0), 1380u);
  EXPECT_EQ(after.value().config.peers[0].preshared_key, "");
}

TEST_F(GnomeEditorTest, AnInvalidFieldIsNamedAndNothingIsWritten) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  GtkEntry* endpoint = Entry(page, "peer.0.endpoint");
  gtk_entry_set_text(endpoint, "vpn.example.net");  // no port
  gtk_combo_box_set_active_id(GTK_COMBO_BOX(Find(page, kKeyKillSwitch)), "off");
  std::string message = Update(connection.get());
  EXPECT_EQ(message.rfind("Endpoint: vpn.data peer.0.endpoint: ", 0), 0u) << message;
  EXPECT_TRUE(gtk_style_context_has_class(gtk_widget_get_style_context(GTK_WIDGET(endpoint)),
                                          GTK_STYLE_CLASS_ERROR));
  // The page says it too: programs only grey out their Save button.
  GtkWidget* problem = Find(page, "problem");
  ASSERT_TRUE(problem);
  EXPECT_TRUE(gtk_widget_get_visible(problem));
  EXPECT_EQ(gtk_label_get_text(GTK_LABEL(problem)), message);
  EXPECT_EQ(DataItem(connection.get(), "peer.0.endpoint"), "192.0.2.44:51820");
  EXPECT_EQ(DataItem(connection.get(), kKeyKillSwitch), "on");

  struct Case {
    const char* key;
    const char* text;
    const char* starts;
  } cases[] = {
      {kSecretPrivateKey, "not a key", "Private key: the private key "},
      {kKeyAddress, "10.0.0.300/32", "Addresses: vpn.data address: "},
      {kKeyDns, "dns.example", "DNS servers: vpn.data dns: "},
      {kKeyMtu, "12", "MTU: vpn.data mtu: "},
      {"peer.0.public-key", "", "Public key cannot be empty"},
      {"peer.0.allowed-ips", "0.0.0.0/0,", "Allowed IPs: vpn.data peer.0.allowed-ips: "},
      {"peer.0.persistent-keepalive", "often", "Persistent keepalive: vpn.data "},
  };
  gtk_entry_set_text(endpoint, "192.0.2.44:51820");
  for (const Case& c : cases) {
    GtkEntry* entry = Entry(page, c.key);
    ASSERT_TRUE(entry);
    std::string good = gtk_entry_get_text(entry);
    gtk_entry_set_text(entry, c.text);
    message = Update(connection.get());
    EXPECT_EQ(message.rfind(c.starts, 0), 0u) << c.key << ": " << message;
    gtk_entry_set_text(entry, good.c_str());
  }
  EXPECT_EQ(Update(connection.get()), "");
  EXPECT_FALSE(gtk_widget_get_visible(problem));
  EXPECT_EQ(DataItem(connection.get(), kKeyKillSwitch), "off");
}

TEST_F(GnomeEditorTest, ANewConnectionStartsEmpty) {
  GObjectPtr<NMConnection> connection(nm_simple_connection_new());
  NMSetting* s_con = nm_setting_connection_new();
  GFreePtr<char> uuid(nm_utils_uuid_generate());
  g_object_set(s_con, NM_SETTING_CONNECTION_ID, "new", NM_SETTING_CONNECTION_UUID, uuid.get(),
               NM_SETTING_CONNECTION_TYPE, NM_SETTING_VPN_SETTING_NAME, nullptr);
  nm_connection_add_setting(connection.get(), s_con);
  NMSetting* vpn = nm_setting_vpn_new();
  g_object_set(vpn, NM_SETTING_VPN_SERVICE_TYPE, kServiceType, nullptr);
  nm_connection_add_setting(connection.get(), vpn);

  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  EXPECT_STREQ(gtk_entry_get_text(Entry(page, kSecretPrivateKey)), "");
  EXPECT_STREQ(gtk_combo_box_get_active_id(GTK_COMBO_BOX(Find(page, kKeyKillSwitch))), "on");
  EXPECT_EQ(Update(connection.get()), "Private key cannot be empty");

  gtk_entry_set_text(Entry(page, kSecretPrivateKey), kTestPrivateKey);
  gtk_entry_set_text(Entry(page, kKeyAddress), "10.9.0.2/32");
  gtk_entry_set_text(Entry(page, "peer.0.public-key"), kTestPublicKey);
  gtk_entry_set_text(Entry(page, "peer.0.endpoint"), "[2001:db8::1]:51820");
  gtk_entry_set_text(Entry(page, "peer.0.allowed-ips"), "0.0.0.0/0, ::/0");
  EXPECT_EQ(Update(connection.get()), "");
  auto settings = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(settings.ok()) << settings.message();
  EXPECT_EQ(settings.value().config.private_key, kTestPrivateKey);
  EXPECT_EQ(settings.value().options, Options{});
  EXPECT_EQ(DataItem(connection.get(), "private-key-flags"), "0");
  EXPECT_STREQ(nm_connection_get_id(connection.get()), "new");
}

// The file chooser "Fill in from a WireGuard file…" opened (without a
// portal, GtkFileChooserNative shows a GtkFileChooserDialog), or nullptr
// after 5 s.
GtkWidget* OpenFileChooser() {
  for (int i = 0; i < 500; ++i) {
    GList* toplevels = gtk_window_list_toplevels();
    GtkWidget* found = nullptr;
    for (GList* l = toplevels; l && !found; l = l->next) {
      if (GTK_IS_FILE_CHOOSER(l->data) && gtk_widget_get_visible(GTK_WIDGET(l->data))) {
        found = GTK_WIDGET(l->data);
      }
    }
    g_list_free(toplevels);
    if (found) return found;
    while (gtk_events_pending()) gtk_main_iteration();
    usleep(10000);
  }
  return nullptr;
}

// Clicks "Fill in from a WireGuard file…" on `page` and chooses `path`
// in the file chooser, as the user would.
void FillFromFile(GtkWidget* page, const std::string& path) {
  GtkWidget* button = Find(page, "fill-from-file");
  ASSERT_TRUE(button && GTK_IS_BUTTON(button));
  gtk_button_clicked(GTK_BUTTON(button));
  GtkWidget* chooser = OpenFileChooser();
  ASSERT_TRUE(chooser) << "no file chooser opened";
  GObjectPtr<GFile> file(g_file_new_for_path(path.c_str()));
  ASSERT_TRUE(gtk_file_chooser_set_file(GTK_FILE_CHOOSER(chooser), file.get(), nullptr));
  // The chooser selects the file once it has read the folder.
  for (int i = 0; i < 500; ++i) {
    GObjectPtr<GFile> chosen(gtk_file_chooser_get_file(GTK_FILE_CHOOSER(chooser)));
    if (chosen && g_file_equal(chosen.get(), file.get())) break;
    while (gtk_events_pending()) gtk_main_iteration();
    usleep(10000);
  }
  gtk_dialog_response(GTK_DIALOG(chooser), GTK_RESPONSE_ACCEPT);
  while (gtk_events_pending()) gtk_main_iteration();
}

// nm-connection-editor offers "Import a saved VPN configuration…" too; the
// page reads the provider's file into a connection being made or edited.
TEST_F(GnomeEditorTest, ANewConnectionIsFilledFromAWireGuardFile) {
  GObjectPtr<NMConnection> connection(nm_simple_connection_new());
  NMSetting* s_con = nm_setting_connection_new();
  GFreePtr<char> uuid(nm_utils_uuid_generate());
  g_object_set(s_con, NM_SETTING_CONNECTION_ID, "new", NM_SETTING_CONNECTION_UUID, uuid.get(),
               NM_SETTING_CONNECTION_TYPE, NM_SETTING_VPN_SETTING_NAME, nullptr);
  nm_connection_add_setting(connection.get(), s_con);
  NMSetting* vpn = nm_setting_vpn_new();
  g_object_set(vpn, NM_SETTING_VPN_SERVICE_TYPE, kServiceType, nullptr);
  nm_connection_add_setting(connection.get(), vpn);
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  gtk_combo_box_set_active_id(GTK_COMBO_BOX(Find(page, kKeyKillSwitch)), "lockdown");
  FillFromFile(page, TestFilePath("good/several-peers.conf"));
  if (HasFailure()) return;

  auto file = Import("several-peers.conf");
  ASSERT_TRUE(file);
  NMSettingVpn* want = nm_connection_get_setting_vpn(file.get());
  EXPECT_STREQ(gtk_entry_get_text(Entry(page, "peer.0.endpoint")),
               nm_setting_vpn_get_data_item(want, "peer.0.endpoint"));
  EXPECT_STREQ(gtk_entry_get_text(Entry(page, kSecretPrivateKey)),
               nm_setting_vpn_get_secret(want, kSecretPrivateKey));
  EXPECT_GT(changes_, 1) << "the program was not told the page changed";
  // The kill-switch choice stays; every peer of the file is saved, the
  // connection keeps its name.
  EXPECT_STREQ(gtk_combo_box_get_active_id(GTK_COMBO_BOX(Find(page, kKeyKillSwitch))), "lockdown");
  EXPECT_EQ(Update(connection.get()), "");
  auto saved = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  auto expected = FromVpnSetting(want);
  ASSERT_TRUE(saved.ok()) << saved.message();
  ASSERT_TRUE(expected.ok()) << expected.message();
  EXPECT_EQ(saved.value().config, expected.value().config);
  EXPECT_EQ(saved.value().options.kill_switch, Options::KillSwitch::kLockdown);
  EXPECT_STREQ(nm_connection_get_id(connection.get()), "new");
}

TEST_F(GnomeEditorTest, AFileThatIsNotWireGuardIsNamedAndChangesNothing) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  const std::string endpoint = gtk_entry_get_text(Entry(page, "peer.0.endpoint"));
  FillFromFile(page, TestFilePath("bad/bad-base64.conf"));
  if (HasFailure()) return;
  GtkWidget* problem = Find(page, "problem");
  ASSERT_TRUE(problem && GTK_IS_LABEL(problem));
  EXPECT_TRUE(gtk_widget_get_visible(problem));
  EXPECT_NE(std::string(gtk_label_get_text(GTK_LABEL(problem))).find("bad-base64.conf"),
            std::string::npos)
      << gtk_label_get_text(GTK_LABEL(problem));
  EXPECT_EQ(gtk_entry_get_text(Entry(page, "peer.0.endpoint")), endpoint);
  EXPECT_EQ(changes_, 0);
}

TEST_F(GnomeEditorTest, OtherPeersAreShownAndKept) {
  auto connection = Import("several-peers.conf");
  ASSERT_TRUE(connection);
  auto before = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(before.ok());
  ASSERT_GT(before.value().config.peers.size(), 1u);
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  GtkWidget* note = Find(page, "other-peers");
  ASSERT_TRUE(note && GTK_IS_LABEL(note));
  std::string text = gtk_label_get_text(GTK_LABEL(note));
  EXPECT_NE(text.find(before.value().config.peers[1].public_key), std::string::npos) << text;

  gtk_entry_set_text(Entry(page, "peer.0.persistent-keepalive"), "25");
  EXPECT_EQ(Update(connection.get()), "");
  auto after = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(after.ok()) << after.message();
  ASSERT_EQ(after.value().config.peers.size(), before.value().config.peers.size());
  EXPECT_EQ(after.value().config.peers[0].persistent_keepalive, 25);
  for (size_t i = 1; i < before.value().config.peers.size(); ++i) {
    EXPECT_EQ(after.value().config.peers[i], before.value().config.peers[i]) << i;
  }

  // Peer 0 may not take another peer's key.
  gtk_entry_set_text(Entry(page, "peer.0.public-key"),
                     before.value().config.peers[1].public_key.c_str());
  std::string message = Update(connection.get());
  EXPECT_NE(message.find("peer.1.public-key"), std::string::npos) << message;
}

TEST_F(GnomeEditorTest, AKeyKeptByTheUsersAgentMayBeLeftOut) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
  nm_setting_set_secret_flags(NM_SETTING(vpn), kSecretPrivateKey,
                              NM_SETTING_SECRET_FLAG_AGENT_OWNED, nullptr);
  nm_setting_vpn_remove_secret(vpn, kSecretPrivateKey);
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  EXPECT_STREQ(gtk_entry_get_text(Entry(page, kSecretPrivateKey)), "");
  EXPECT_EQ(Update(connection.get()), "");
  EXPECT_EQ(DataItem(connection.get(), "private-key-flags"),
            std::to_string(NM_SETTING_SECRET_FLAG_AGENT_OWNED));
  EXPECT_EQ(
      nm_setting_vpn_get_secret(nm_connection_get_setting_vpn(connection.get()), kSecretPrivateKey),
      nullptr);
}

}  // namespace
}  // namespace nmks::wg
