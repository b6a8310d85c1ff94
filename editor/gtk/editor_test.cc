// The GNOME editor as a GTK program gets it, one test for both of our
// modules: built with NMKS_GTK4 it is a GTK 4 program (GNOME Settings) and
// loads the GTK 4 editor, without it a GTK 3 one (nm-connection-editor) and
// loads the GTK 3 editor. libnm reads the .name file, loads the GTK-free
// editor plugin, and nm_vpn_editor_plugin_get_editor() has the plugin load
// the editor of the program's GTK from the plugin's own directory. The
// plugin and both editors are copied from the build into one directory, as
// they are installed; the other GTK's must be left alone in this process.
// The test reads and sets widgets through the page's own widgets.h. Needs
// a display: meson runs this under xvfb-run; without one the tests are
// skipped, and fail when CI=true.
#include <gtest/gtest.h>
#include <gtk/gtk.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/glib_ptr.h"
#include "base/libnm.h"
#include "editor/gnome_editor.h"
#include "editor/gtk/widgets.h"
#include "wireguard/wg_connection.h"
#include "wireguard/wg_test_files.h"

namespace nmks::wg {
namespace {

namespace fs = std::filesystem;

// What differs between the GTK 3 and the GTK 4 program.
#if GTK_CHECK_VERSION(4, 0, 0)
constexpr char kThisEditor[] = "NmksGtk4Editor";
constexpr char kOtherEditor[] = "NmksGtkEditor";

bool DisplayReady() {
  static const bool ready = gtk_init_check();
  return ready;
}

// The widget named `name` under `root`, or nullptr.
GtkWidget* Find(GtkWidget* root, const std::string& name) {
  if (name == gtk_widget_get_name(root)) return root;
  for (GtkWidget* child = gtk_widget_get_first_child(root); child;
       child = gtk_widget_get_next_sibling(child)) {
    if (GtkWidget* found = Find(child, name)) return found;
  }
  return nullptr;
}

bool HasErrorStyle(GtkWidget* widget) { return gtk_widget_has_css_class(widget, "error"); }

// GtkFileChooser is deprecated from GTK 4.10 on, but it is what
// GtkFileChooserNative shows without a portal.
G_GNUC_BEGIN_IGNORE_DEPRECATIONS
bool IsFileChooser(gpointer object) { return GTK_IS_FILE_CHOOSER(object); }
G_GNUC_END_IGNORE_DEPRECATIONS

// A visible file chooser window, or nullptr.
GtkWidget* VisibleFileChooser() {
  GListModel* toplevels = gtk_window_get_toplevels();
  GtkWidget* found = nullptr;
  for (guint n = 0; n < g_list_model_get_n_items(toplevels); ++n) {
    gpointer item = g_list_model_get_item(toplevels, n);
    if (!found && IsFileChooser(item) && gtk_widget_get_visible(GTK_WIDGET(item))) {
      found = GTK_WIDGET(item);
    }
    g_object_unref(item);  // GTK's list of windows keeps it
  }
  return found;
}

GtkWidget* ShowInWindow(GtkWidget* page) {
  GtkWidget* window = gtk_window_new();
  gtk_window_set_child(GTK_WINDOW(window), page);
  gtk_window_present(GTK_WINDOW(window));
  return window;
}

int Width(GtkWidget* widget) { return gtk_widget_get_width(widget); }

void CloseWindow(GtkWidget* window) { gtk_window_destroy(GTK_WINDOW(window)); }
#else
constexpr char kThisEditor[] = "NmksGtkEditor";
constexpr char kOtherEditor[] = "NmksGtk4Editor";

bool DisplayReady() {
  static const bool ready = gtk_init_check(nullptr, nullptr);
  return ready;
}

GtkWidget* Find(GtkWidget* root, const std::string& name) {
  if (name == gtk_widget_get_name(root)) return root;
  if (!GTK_IS_CONTAINER(root)) return nullptr;
  GList* children = gtk_container_get_children(GTK_CONTAINER(root));
  GtkWidget* found = nullptr;
  for (GList* l = children; l && !found; l = l->next) found = Find(GTK_WIDGET(l->data), name);
  g_list_free(children);
  return found;
}

bool HasErrorStyle(GtkWidget* widget) {
  return gtk_style_context_has_class(gtk_widget_get_style_context(widget), GTK_STYLE_CLASS_ERROR);
}

GtkWidget* VisibleFileChooser() {
  GList* toplevels = gtk_window_list_toplevels();
  GtkWidget* found = nullptr;
  for (GList* l = toplevels; l && !found; l = l->next) {
    if (GTK_IS_FILE_CHOOSER(l->data) && gtk_widget_get_visible(GTK_WIDGET(l->data))) {
      found = GTK_WIDGET(l->data);
    }
  }
  g_list_free(toplevels);
  return found;
}

// As nm-connection-editor shows its dialog: all of it.
GtkWidget* ShowInWindow(GtkWidget* page) {
  GtkWidget* window = gtk_window_new(GTK_WINDOW_TOPLEVEL);
  gtk_container_add(GTK_CONTAINER(window), page);
  gtk_widget_show_all(window);
  return window;
}

int Width(GtkWidget* widget) { return gtk_widget_get_allocated_width(widget); }

// The page stays the editor's: taken out first, or the window would
// destroy its widgets with it.
void CloseWindow(GtkWidget* window) {
  gtk_container_remove(GTK_CONTAINER(window), gtk_bin_get_child(GTK_BIN(window)));
  gtk_widget_destroy(window);
}
#endif

void Iterate() {
  while (g_main_context_pending(nullptr)) g_main_context_iteration(nullptr, FALSE);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string DataItem(NMConnection* connection, const std::string& key) {
  const char* value =
      nm_setting_vpn_get_data_item(nm_connection_get_setting_vpn(connection), key.c_str());
  return value ? value : "(none)";
}

std::string Text(GtkWidget* entry) { return entry ? widgets::Text(entry) : ""; }

void SetText(GtkWidget* entry, const char* text) {
  ASSERT_TRUE(entry);
  widgets::SetText(entry, text);
}

// The vpn.data value a choice shows.
std::string SelectedId(GtkWidget* choice) {
  EXPECT_TRUE(choice);
  return choice ? widgets::ChosenId(choice) : "";
}

// Selects the row of a choice that holds the vpn.data value `id`.
void Select(GtkWidget* choice, const std::string& id) {
  ASSERT_TRUE(choice);
  ASSERT_TRUE(widgets::Choose(choice, id))
      << "no choice " << id << " in " << gtk_widget_get_name(choice);
}

bool Checked(GtkWidget* check) {
  EXPECT_TRUE(check && GTK_IS_CHECK_BUTTON(check));
  return check && GTK_IS_CHECK_BUTTON(check) && widgets::Checked(check);
}

void SetChecked(GtkWidget* check, bool active) {
  ASSERT_TRUE(check && GTK_IS_CHECK_BUTTON(check));
  widgets::SetChecked(check, active);
}

class GnomeEditorTest : public ::testing::Test {
 protected:
  // Once per process: a module is loaded once and never unloaded.
  static void SetUpTestSuite() {
    char dir_template[] = "/tmp/nmks-gnome-editor-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = new std::string(dir_template);
    std::string build = NMKS_BUILD_DIR "/editor/";
    std::string plugin = *dir_ + "/libnm-vpn-plugin-killswitch.so";
    fs::copy_file(build + "libnm-vpn-plugin-killswitch.so", plugin);
    for (const char* editor : {kGnomeEditorFile, kGnomeEditorGtk4File}) {
      if (fs::exists(build + "gtk/" + editor)) {
        fs::copy_file(build + "gtk/" + editor, *dir_ + "/" + editor);
      }
    }
    std::string name = ReadFile(NMKS_BUILD_DIR "/service/nm-killswitch-service.name");
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
    Iterate();
  }

  GObjectPtr<NMConnection> Import(const std::string& file) {
    GError* error = nullptr;
    GObjectPtr<NMConnection> connection(
        nm_vpn_editor_plugin_import(plugin_, TestFilePath("good/" + file).c_str(), &error));
    EXPECT_TRUE(connection) << (error ? error->message : "");
    g_clear_error(&error);
    return connection;
  }

  // Opens the editor on `connection` the way GNOME programs do; the page's
  // top widget, or nullptr.
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

  GtkWidget* Entry(GtkWidget* page, const std::string& name) {
    GtkWidget* w = Find(page, name);
    EXPECT_TRUE(w && GTK_IS_ENTRY(w)) << name;
    return w && GTK_IS_ENTRY(w) ? w : nullptr;
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

TEST_F(GnomeEditorTest, TheEditorOfThisGtkIsLoaded) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  ASSERT_TRUE(Open(connection.get()));
  EXPECT_STREQ(G_OBJECT_TYPE_NAME(editor_.get()), kThisEditor);
  EXPECT_EQ(g_type_from_name(kOtherEditor), G_TYPE_INVALID) << "the other GTK's editor was loaded";
}

TEST_F(GnomeEditorTest, ShowsTheConnection) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
  for (const char* key : {kKeyAddress, kKeyDns, "peer.0.public-key", "peer.0.endpoint",
                          "peer.0.allowed-ips", "peer.0.persistent-keepalive"}) {
    GtkWidget* entry = Entry(page, key);
    ASSERT_TRUE(entry);
    EXPECT_EQ(Text(entry), nm_setting_vpn_get_data_item(vpn, key)) << key;
  }
  EXPECT_EQ(Text(Entry(page, "peer.0.endpoint")), "192.0.2.44:51820");
  EXPECT_EQ(Text(Entry(page, kKeyMtu)), "");
  for (const char* key : {kSecretPrivateKey, "peer.0.preshared-key"}) {
    GtkWidget* entry = Entry(page, key);
    ASSERT_TRUE(entry);
    EXPECT_EQ(Text(entry), nm_setting_vpn_get_secret(vpn, key)) << key;
    EXPECT_FALSE(gtk_entry_get_visibility(GTK_ENTRY(entry))) << key << " is shown as dots";
  }
  EXPECT_EQ(SelectedId(Find(page, kKeyKillSwitch)), "on");
  EXPECT_EQ(SelectedId(Find(page, kKeyIpv6)), "auto");
  EXPECT_FALSE(Checked(Find(page, kKeyAllowLan)));
  EXPECT_FALSE(Checked(Find(page, kKeyBlockAtBoot)));
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

TEST_F(GnomeEditorTest, ShowsTheKillSwitchOptionsOfTheConnection) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection.get());
  nm_setting_vpn_add_data_item(vpn, kKeyKillSwitch, "lockdown");
  nm_setting_vpn_add_data_item(vpn, kKeyAllowLan, "yes");
  nm_setting_vpn_add_data_item(vpn, kKeyIpv6, "block");
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  EXPECT_EQ(SelectedId(Find(page, kKeyKillSwitch)), "lockdown");
  EXPECT_EQ(SelectedId(Find(page, kKeyIpv6)), "block");
  EXPECT_TRUE(Checked(Find(page, kKeyAllowLan)));
  EXPECT_FALSE(Checked(Find(page, kKeyBlockAtBoot)));
}

TEST_F(GnomeEditorTest, KillSwitchChoicesWriteVpnData) {
  auto connection = Import("psk.conf");
  ASSERT_TRUE(connection);
  auto before = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(before.ok());
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);

  Select(Find(page, kKeyKillSwitch), "lockdown");
  EXPECT_EQ(changes_, 1);
  SetChecked(Find(page, kKeyAllowLan), true);
  EXPECT_EQ(changes_, 2);
  Select(Find(page, kKeyIpv6), "block");
  SetChecked(Find(page, kKeyBlockAtBoot), true);
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
  SetText(Entry(page, "peer.0.endpoint"), " vpn.example.net:443 ");
  SetText(Entry(page, kKeyMtu), "1380");
  SetText(Entry(page, "peer.0.preshared-key"), "");
  EXPECT_GE(changes_, 3);
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
  GtkWidget* endpoint = Entry(page, "peer.0.endpoint");
  SetText(endpoint, "vpn.example.net");  // no port
  Select(Find(page, kKeyKillSwitch), "off");
  std::string message = Update(connection.get());
  EXPECT_EQ(message.rfind("Endpoint: vpn.data peer.0.endpoint: ", 0), 0u) << message;
  EXPECT_TRUE(HasErrorStyle(endpoint));
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
  SetText(endpoint, "192.0.2.44:51820");
  for (const Case& c : cases) {
    GtkWidget* entry = Entry(page, c.key);
    ASSERT_TRUE(entry);
    std::string good = Text(entry);
    SetText(entry, c.text);
    message = Update(connection.get());
    EXPECT_EQ(message.rfind(c.starts, 0), 0u) << c.key << ": " << message;
    EXPECT_TRUE(HasErrorStyle(entry)) << c.key;
    SetText(entry, good.c_str());
  }
  EXPECT_EQ(Update(connection.get()), "");
  EXPECT_FALSE(HasErrorStyle(endpoint));
  EXPECT_FALSE(gtk_widget_get_visible(problem));
  EXPECT_EQ(DataItem(connection.get(), kKeyKillSwitch), "off");
}

GObjectPtr<NMConnection> NewConnection() {
  GObjectPtr<NMConnection> connection(nm_simple_connection_new());
  NMSetting* s_con = nm_setting_connection_new();
  GFreePtr<char> uuid(nm_utils_uuid_generate());
  g_object_set(s_con, NM_SETTING_CONNECTION_ID, "new", NM_SETTING_CONNECTION_UUID, uuid.get(),
               NM_SETTING_CONNECTION_TYPE, NM_SETTING_VPN_SETTING_NAME, nullptr);
  nm_connection_add_setting(connection.get(), s_con);
  NMSetting* vpn = nm_setting_vpn_new();
  g_object_set(vpn, NM_SETTING_VPN_SERVICE_TYPE, kServiceType, nullptr);
  nm_connection_add_setting(connection.get(), vpn);
  return connection;
}

TEST_F(GnomeEditorTest, ANewConnectionStartsEmpty) {
  auto connection = NewConnection();
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  EXPECT_EQ(Text(Entry(page, kSecretPrivateKey)), "");
  EXPECT_EQ(SelectedId(Find(page, kKeyKillSwitch)), "on");
  EXPECT_EQ(Update(connection.get()), "Private key cannot be empty");

  SetText(Entry(page, kSecretPrivateKey), kTestPrivateKey);
  SetText(Entry(page, kKeyAddress), "10.9.0.2/32");
  SetText(Entry(page, "peer.0.public-key"), kTestPublicKey);
  SetText(Entry(page, "peer.0.endpoint"), "[2001:db8::1]:51820");
  SetText(Entry(page, "peer.0.allowed-ips"), "0.0.0.0/0, ::/0");
  EXPECT_EQ(Update(connection.get()), "");
  auto settings = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(settings.ok()) << settings.message();
  EXPECT_EQ(settings.value().config.private_key, kTestPrivateKey);
  EXPECT_EQ(settings.value().options, Options{});
  EXPECT_EQ(DataItem(connection.get(), "private-key-flags"), "0");
  EXPECT_STREQ(nm_connection_get_id(connection.get()), "new");
}

// The file chooser "Fill in from a WireGuard file…" opened (without a
// portal, GTK shows a GtkFileChooserDialog), or nullptr after 5 s.
GtkWidget* OpenFileChooser() {
  for (int i = 0; i < 500; ++i) {
    if (GtkWidget* found = VisibleFileChooser()) return found;
    Iterate();
    usleep(10000);
  }
  return nullptr;
}

// Clicks "Fill in from a WireGuard file…" on `page` and chooses `path`
// in the file chooser, as the user would.
void FillFromFile(GtkWidget* page, const std::string& path) {
  GtkWidget* button = Find(page, "fill-from-file");
  ASSERT_TRUE(button && GTK_IS_BUTTON(button));
  g_signal_emit_by_name(button, "clicked");
  GtkWidget* chooser = OpenFileChooser();
  ASSERT_TRUE(chooser) << "no file chooser opened";
  // GtkFileChooser and GtkDialog are deprecated from GTK 4.10 on, but they
  // are what GtkFileChooserNative shows without a portal.
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  GObjectPtr<GFile> file(g_file_new_for_path(path.c_str()));
  ASSERT_TRUE(gtk_file_chooser_set_file(GTK_FILE_CHOOSER(chooser), file.get(), nullptr));
  // The chooser selects the file once it has read the folder.
  for (int i = 0; i < 500; ++i) {
    GObjectPtr<GFile> chosen(gtk_file_chooser_get_file(GTK_FILE_CHOOSER(chooser)));
    if (chosen && g_file_equal(chosen.get(), file.get())) break;
    Iterate();
    usleep(10000);
  }
  gtk_dialog_response(GTK_DIALOG(chooser), GTK_RESPONSE_ACCEPT);
  G_GNUC_END_IGNORE_DEPRECATIONS
  Iterate();
}

// GNOME Settings 46 and later give "Import from file…" to NetworkManager's
// own WireGuard type; on our page (in GNOME Settings and in
// nm-connection-editor) the user reads the provider's file in.
TEST_F(GnomeEditorTest, ANewConnectionIsFilledFromAWireGuardFile) {
  auto connection = NewConnection();
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  Select(Find(page, kKeyKillSwitch), "lockdown");
  FillFromFile(page, TestFilePath("good/several-peers.conf"));
  if (HasFailure()) return;

  auto file = Import("several-peers.conf");
  ASSERT_TRUE(file);
  NMSettingVpn* want = nm_connection_get_setting_vpn(file.get());
  EXPECT_EQ(Text(Entry(page, "peer.0.endpoint")),
            nm_setting_vpn_get_data_item(want, "peer.0.endpoint"));
  EXPECT_EQ(Text(Entry(page, kSecretPrivateKey)),
            nm_setting_vpn_get_secret(want, kSecretPrivateKey));
  EXPECT_GT(changes_, 0) << "the program was not told the page changed";
  // The kill-switch choice stays; every peer of the file is saved, the
  // connection keeps its name.
  EXPECT_EQ(SelectedId(Find(page, kKeyKillSwitch)), "lockdown");
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
  const std::string endpoint = Text(Entry(page, "peer.0.endpoint"));
  FillFromFile(page, TestFilePath("bad/bad-base64.conf"));
  if (HasFailure()) return;
  GtkWidget* problem = Find(page, "problem");
  ASSERT_TRUE(problem && GTK_IS_LABEL(problem));
  EXPECT_TRUE(gtk_widget_get_visible(problem));
  EXPECT_NE(std::string(gtk_label_get_text(GTK_LABEL(problem))).find("bad-base64.conf"),
            std::string::npos)
      << gtk_label_get_text(GTK_LABEL(problem));
  EXPECT_EQ(Text(Entry(page, "peer.0.endpoint")), endpoint);
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

  SetText(Entry(page, "peer.0.persistent-keepalive"), "25");
  EXPECT_EQ(Update(connection.get()), "");
  auto after = FromVpnSetting(nm_connection_get_setting_vpn(connection.get()));
  ASSERT_TRUE(after.ok()) << after.message();
  ASSERT_EQ(after.value().config.peers.size(), before.value().config.peers.size());
  EXPECT_EQ(after.value().config.peers[0].persistent_keepalive, 25);
  for (size_t i = 1; i < before.value().config.peers.size(); ++i) {
    EXPECT_EQ(after.value().config.peers[i], before.value().config.peers[i]) << i;
  }

  // Peer 0 may not take another peer's key.
  SetText(Entry(page, "peer.0.public-key"), before.value().config.peers[1].public_key.c_str());
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
  EXPECT_EQ(Text(Entry(page, kSecretPrivateKey)), "");
  EXPECT_EQ(Update(connection.get()), "");
  EXPECT_EQ(DataItem(connection.get(), "private-key-flags"),
            std::to_string(NM_SETTING_SECRET_FLAG_AGENT_OWNED));
  EXPECT_EQ(
      nm_setting_vpn_get_secret(nm_connection_get_setting_vpn(connection.get()), kSecretPrivateKey),
      nullptr);
}

TEST_F(GnomeEditorTest, ThePageIsShownInAWindow) {
  auto connection = Import("several-peers.conf");
  ASSERT_TRUE(connection);
  GtkWidget* page = Open(connection.get());
  ASSERT_TRUE(page);
  GtkWidget* window = ShowInWindow(page);
  for (int i = 0; i < 500 && Width(page) == 0; ++i) {
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    g_usleep(10000);
  }
  EXPECT_TRUE(gtk_widget_get_mapped(page));
  EXPECT_GT(Width(page), 0);
  EXPECT_TRUE(gtk_widget_get_visible(Find(page, "fill-from-file")));
  EXPECT_TRUE(gtk_widget_get_visible(Find(page, "other-peers")));
  // Nothing is wrong yet: the problem line stays hidden.
  EXPECT_FALSE(gtk_widget_get_visible(Find(page, "problem")));
  CloseWindow(window);
}

}  // namespace
}  // namespace nmks::wg
