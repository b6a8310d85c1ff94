// EditorPage: the widgets of the GNOME editor and the Form they hold.
#include "nm-plugin/gtk/editor_page.h"

#include <libintl.h>

// libnma 1.10's headers declare their functions without extern "C".
extern "C" {
#include <nma-ui-utils.h>
}

#include <string>
#include <utility>
#include <vector>

#include "nm-plugin/import_export.h"
#include "rules/i18n.h"

namespace nmks::wg {
namespace {

// Indices into FormFields(): the interface, then peer 0.
constexpr size_t kFirstInterfaceField = 0;
constexpr size_t kFirstPeerField = 6;

struct Choice {
  const char* id;  // the vpn.data value
  const char* label;
};

GtkWidget* Heading(const char* text) {
  GtkWidget* label = gtk_label_new(nullptr);
  GFreePtr<char> markup(g_markup_printf_escaped("<b>%s</b>", text));
  gtk_label_set_markup(GTK_LABEL(label), markup.get());
  gtk_widget_set_halign(label, GTK_ALIGN_START);
  return label;
}

GtkWidget* NewGrid(GtkWidget* box) {
  GtkWidget* grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 6);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
  gtk_widget_set_margin_start(grid, 12);
  gtk_box_pack_start(GTK_BOX(box), grid, FALSE, FALSE, 0);
  return grid;
}

GtkWidget* Combo(const char* name, const std::vector<Choice>& choices, const char* active) {
  GtkWidget* combo = gtk_combo_box_text_new();
  gtk_widget_set_name(combo, name);
  for (const Choice& c : choices) {
    gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), c.id, c.label);
  }
  gtk_combo_box_set_active_id(GTK_COMBO_BOX(combo), active);
  return combo;
}

GtkWidget* Check(const char* name, const char* label, bool active) {
  GtkWidget* check = gtk_check_button_new_with_label(label);
  gtk_widget_set_name(check, name);
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(check), active);
  return check;
}

NMSettingSecretFlags SecretFlags(NMSettingVpn* vpn, const std::string& key) {
  NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NONE;
  if (vpn) nm_setting_get_secret_flags(NM_SETTING(vpn), key.c_str(), &flags, nullptr);
  return flags;
}

std::string ActiveId(GtkWidget* combo) {
  const char* id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(combo));
  return id ? id : "";
}

std::string Trimmed(const char* text) {
  GFreePtr<char> copy(g_strdup(text ? text : ""));
  return g_strstrip(copy.get());
}

}  // namespace

EditorPage::EditorPage(NMConnection* connection, std::function<void()> changed)
    : changed_(std::move(changed)) {
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  if (vpn) kept_.reset(NM_SETTING_VPN(nm_setting_duplicate(NM_SETTING(vpn))));
  fields_ = FormFields(kept_.get());

  GtkWidget* box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
  gtk_container_set_border_width(GTK_CONTAINER(box), 12);
  root_.reset(GTK_WIDGET(g_object_ref_sink(box)));
  entries_.assign(fields_.size(), nullptr);
  labels_.reset(gtk_size_group_new(GTK_SIZE_GROUP_HORIZONTAL));
  problem_ = gtk_label_new(nullptr);
  gtk_widget_set_name(problem_, "problem");
  gtk_label_set_line_wrap(GTK_LABEL(problem_), TRUE);
  gtk_label_set_xalign(GTK_LABEL(problem_), 0);
  gtk_style_context_add_class(gtk_widget_get_style_context(problem_), GTK_STYLE_CLASS_ERROR);
  gtk_widget_set_no_show_all(problem_, TRUE);
  gtk_box_pack_start(GTK_BOX(box), problem_, FALSE, FALSE, 0);
  BuildFileButton(box);
  BuildInterface(box);
  BuildPeer(box);
  BuildOtherPeers(box);
  BuildKillSwitch(box);
  gtk_widget_show_all(box);
}

// The page an open file chooser reports to; cleared when the page goes
// first, so a late answer finds nothing.
constexpr char kChooserPage[] = "nmks-editor-page";

EditorPage::~EditorPage() {
  if (chooser_) {
    g_object_set_data(chooser_.get(), kChooserPage, nullptr);
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(chooser_.get()));
  }
  // The widgets may outlive the page (the program holds the top one).
  for (GtkWidget* w : entries_) g_signal_handlers_disconnect_by_data(w, this);
  for (GtkWidget* w : {kill_switch_, allow_lan_, block_at_boot_, ipv6_, file_button_}) {
    g_signal_handlers_disconnect_by_data(w, this);
  }
}

void EditorPage::OnEdit(EditorPage* page) {
  if (page->changed_) page->changed_();
}

GtkWidget* EditorPage::AddRow(GtkGrid* grid, int row, const char* text, GtkWidget* widget) {
  GtkWidget* label = gtk_label_new(text);
  gtk_widget_set_halign(label, GTK_ALIGN_END);
  gtk_label_set_mnemonic_widget(GTK_LABEL(label), widget);
  gtk_size_group_add_widget(labels_.get(), label);
  gtk_widget_set_hexpand(widget, TRUE);
  gtk_grid_attach(grid, label, 0, row, 1, 1);
  gtk_grid_attach(grid, widget, 1, row, 1, 1);
  return widget;
}

GtkWidget* EditorPage::AddField(GtkGrid* grid, int row, size_t index) {
  const FormField& field = fields_[index];
  GtkWidget* entry = gtk_entry_new();
  gtk_widget_set_name(entry, field.key.c_str());
  gtk_entry_set_text(GTK_ENTRY(entry), field.text.c_str());
  if (field.secret) {
    gtk_entry_set_visibility(GTK_ENTRY(entry), FALSE);
    gtk_entry_set_input_purpose(GTK_ENTRY(entry), GTK_INPUT_PURPOSE_PASSWORD);
    // The storage menu (this user, all users, ask every time) writes
    // nothing by itself; Save reads it back.
    nma_utils_setup_password_storage(entry, SecretFlags(kept_.get(), field.key), nullptr,
                                     field.key.c_str(), FALSE, FALSE);
    g_signal_connect_swapped(entry, "notify::secondary-icon-name", G_CALLBACK(OnEdit), this);
  }
  g_signal_connect_swapped(entry, "changed", G_CALLBACK(OnEdit), this);
  entries_[index] = entry;
  return AddRow(grid, row, field.label.c_str(), entry);
}

void EditorPage::BuildFileButton(GtkWidget* box) {
  GtkWidget* button = gtk_button_new_with_mnemonic(_("_Fill in from a WireGuard file…"));
  gtk_widget_set_name(button, "fill-from-file");
  gtk_widget_set_halign(button, GTK_ALIGN_START);
  gtk_widget_set_tooltip_text(
      button, _("Read the interface and peer from a wg-quick file (.conf) your VPN provider gave "
                "you. The kill-switch choices below stay as they are."));
  g_signal_connect_swapped(button, "clicked",
                           G_CALLBACK(+[](EditorPage* page) { page->OpenFileChooser(); }), this);
  file_button_ = button;
  gtk_box_pack_start(GTK_BOX(box), button, FALSE, FALSE, 0);
}

void EditorPage::OpenFileChooser() {
  if (chooser_) return;  // one at a time
  GtkWidget* top = gtk_widget_get_toplevel(root_.get());
  GtkWindow* parent = top && GTK_IS_WINDOW(top) ? GTK_WINDOW(top) : nullptr;
  GtkFileChooserNative* native = gtk_file_chooser_native_new(
      _("Choose a WireGuard file"), parent, GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  GtkFileFilter* conf = gtk_file_filter_new();  // the chooser takes it
  gtk_file_filter_set_name(conf, _("WireGuard files (*.conf)"));
  gtk_file_filter_add_pattern(conf, "*.conf");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(native), conf);
  GtkFileFilter* all = gtk_file_filter_new();
  gtk_file_filter_set_name(all, _("All files"));
  gtk_file_filter_add_pattern(all, "*");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(native), all);
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(native), TRUE);
  chooser_.reset(G_OBJECT(native));
  g_object_set_data(chooser_.get(), kChooserPage, this);
  g_signal_connect(native, "response", G_CALLBACK(&EditorPage::OnChooserResponse), nullptr);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(native));
}

void EditorPage::OnChooserResponse(GtkNativeDialog* dialog, int response, gpointer /*data*/) {
  auto* page = static_cast<EditorPage*>(g_object_get_data(G_OBJECT(dialog), kChooserPage));
  if (!page) return;
  GObjectPtr<GFile> file(response == GTK_RESPONSE_ACCEPT
                             ? gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog))
                             : nullptr);
  g_object_set_data(G_OBJECT(dialog), kChooserPage, nullptr);
  gtk_native_dialog_destroy(dialog);
  page->chooser_.reset();  // the last reference to `dialog`
  GFreePtr<char> path(file ? g_file_get_path(file.get()) : nullptr);
  if (path) page->FillFromFile(path.get());
}

void EditorPage::FillFromFile(const char* path) {
  auto imported = ImportFile(path);
  if (!imported.ok()) {
    ShowProblem(imported.message());
    return;
  }
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(imported.value().get());
  const std::vector<FormField> fields = FormFields(vpn);
  // The file's further peers are what Save keeps from now on.
  kept_.reset(NM_SETTING_VPN(nm_setting_duplicate(NM_SETTING(vpn))));
  for (size_t i = 0; i < fields.size() && i < entries_.size(); ++i) {
    gtk_entry_set_text(GTK_ENTRY(entries_[i]), fields[i].text.c_str());
  }
  gtk_widget_hide(problem_);
  if (changed_) changed_();
}

void EditorPage::ShowProblem(const std::string& message) {
  gtk_label_set_text(GTK_LABEL(problem_), message.c_str());
  gtk_widget_show(problem_);
}

void EditorPage::BuildInterface(GtkWidget* box) {
  gtk_box_pack_start(GTK_BOX(box), Heading(_("WireGuard interface")), FALSE, FALSE, 0);
  GtkGrid* grid = GTK_GRID(NewGrid(box));
  for (size_t i = kFirstInterfaceField; i < kFirstPeerField; ++i) {
    AddField(grid, static_cast<int>(i - kFirstInterfaceField), i);
  }
  gtk_entry_set_placeholder_text(GTK_ENTRY(entries_[1]), "192.0.2.2/32, 2001:db8::2/128");
  gtk_entry_set_placeholder_text(GTK_ENTRY(entries_[4]), _("automatic"));
  gtk_entry_set_placeholder_text(GTK_ENTRY(entries_[5]), _("random"));
}

void EditorPage::BuildPeer(GtkWidget* box) {
  gtk_box_pack_start(GTK_BOX(box), Heading(_("Peer")), FALSE, FALSE, 0);
  GtkGrid* grid = GTK_GRID(NewGrid(box));
  for (size_t i = kFirstPeerField; i < fields_.size(); ++i) {
    AddField(grid, static_cast<int>(i - kFirstPeerField), i);
  }
  gtk_entry_set_placeholder_text(GTK_ENTRY(entries_[kFirstPeerField + 2]), "vpn.example.net:51820");
  gtk_entry_set_placeholder_text(GTK_ENTRY(entries_[kFirstPeerField + 3]), "0.0.0.0/0, ::/0");
  gtk_entry_set_placeholder_text(GTK_ENTRY(entries_[kFirstPeerField + 4]), _("off"));
}

void EditorPage::BuildOtherPeers(GtkWidget* box) {
  std::string list;
  size_t count = 0;
  for (size_t i = 1; kept_; ++i) {
    const char* key = nm_setting_vpn_get_data_item(kept_.get(), PeerKey(i, kPeerPublicKey).c_str());
    if (!key) break;
    const char* endpoint =
        nm_setting_vpn_get_data_item(kept_.get(), PeerKey(i, kPeerEndpoint).c_str());
    list += Format(_("Peer %zu: %s, endpoint %s"), i + 1, key, endpoint ? endpoint : _("none"));
    list += "\n";
    ++count;
  }
  if (count == 0) return;
  std::string note = Format(dngettext(GETTEXT_PACKAGE,
                                      "This connection has %zu more peer. It is kept as it is; "
                                      "change it with nmcli or by importing a WireGuard file.",
                                      "This connection has %zu more peers. They are kept as they "
                                      "are; change them with nmcli or by importing a WireGuard "
                                      "file.",
                                      count),
                            count);
  gtk_box_pack_start(GTK_BOX(box), Heading(_("Other peers")), FALSE, FALSE, 0);
  GtkWidget* label = gtk_label_new((note + "\n" + list).c_str());
  gtk_widget_set_name(label, "other-peers");
  gtk_label_set_line_wrap(GTK_LABEL(label), TRUE);
  gtk_label_set_selectable(GTK_LABEL(label), TRUE);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_widget_set_margin_start(label, 12);
  gtk_box_pack_start(GTK_BOX(box), label, FALSE, FALSE, 0);
}

void EditorPage::BuildKillSwitch(GtkWidget* box) {
  Options o = FormOptions(kept_.get());
  gtk_box_pack_start(GTK_BOX(box), Heading(_("Kill switch")), FALSE, FALSE, 0);
  GtkGrid* grid = GTK_GRID(NewGrid(box));
  const char* mode = o.kill_switch == Options::KillSwitch::kLockdown ? "lockdown"
                     : o.kill_switch == Options::KillSwitch::kOff    ? "off"
                                                                     : "on";
  kill_switch_ = Combo(kKeyKillSwitch,
                       {{"on", _("On: released when you switch the VPN off")},
                        {"lockdown", _("Lockdown: stays until an administrator releases it")},
                        {"off", _("Off: a plain WireGuard VPN")}},
                       mode);
  AddRow(grid, 0, _("Kill switch"), kill_switch_);
  ipv6_ = Combo(kKeyIpv6,
                {{"auto", _("Through the tunnel when it has an IPv6 address, blocked otherwise")},
                 {"block", _("Always blocked")}},
                o.ipv6 == Options::Ipv6::kBlock ? "block" : "auto");
  AddRow(grid, 1, _("IPv6"), ipv6_);
  allow_lan_ =
      Check(kKeyAllowLan, _("Allow the local network (DNS outside the tunnel stays blocked)"),
            o.allow_lan);
  gtk_grid_attach(grid, allow_lan_, 1, 2, 1, 1);
  block_at_boot_ =
      Check(kKeyBlockAtBoot, _("Block at boot, before any network comes up"), o.block_at_boot);
  gtk_grid_attach(grid, block_at_boot_, 1, 3, 1, 1);
  for (GtkWidget* combo : {kill_switch_, ipv6_}) {
    g_signal_connect_swapped(combo, "changed", G_CALLBACK(OnEdit), this);
  }
  for (GtkWidget* check : {allow_lan_, block_at_boot_}) {
    g_signal_connect_swapped(check, "toggled", G_CALLBACK(OnEdit), this);
  }
}

Form EditorPage::ReadForm() const {
  Form form;
  form.fields = fields_;
  for (size_t i = 0; i < fields_.size(); ++i) {
    form.fields[i].text = Trimmed(gtk_entry_get_text(GTK_ENTRY(entries_[i])));
    if (fields_[i].key == kSecretPrivateKey) {
      form.private_key_flags = nma_utils_menu_to_secret_flags(entries_[i]);
    } else if (fields_[i].secret) {
      form.preshared_key_flags = nma_utils_menu_to_secret_flags(entries_[i]);
    }
  }
  std::string mode = ActiveId(kill_switch_);
  form.options.kill_switch = mode == "lockdown" ? Options::KillSwitch::kLockdown
                             : mode == "off"    ? Options::KillSwitch::kOff
                                                : Options::KillSwitch::kOn;
  form.options.allow_lan = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(allow_lan_));
  form.options.block_at_boot = gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(block_at_boot_));
  std::string ipv6 = ActiveId(ipv6_);
  form.options.ipv6 = ipv6 == "block" ? Options::Ipv6::kBlock : Options::Ipv6::kAuto;
  return form;
}

bool EditorPage::Save(NMConnection* connection, GError** error) {
  for (GtkWidget* entry : entries_) {
    gtk_style_context_remove_class(gtk_widget_get_style_context(entry), GTK_STYLE_CLASS_ERROR);
  }
  FormError fault;
  if (ApplyForm(ReadForm(), kept_.get(), connection, &fault)) {
    gtk_widget_hide(problem_);
    return true;
  }
  if (fault.field >= 0) {
    gtk_style_context_add_class(gtk_widget_get_style_context(entries_[fault.field]),
                                GTK_STYLE_CLASS_ERROR);
  }
  ShowProblem(fault.message);
  g_set_error_literal(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_INVALID_PROPERTY,
                      fault.message.c_str());
  return false;
}

}  // namespace nmks::wg
