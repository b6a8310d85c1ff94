// EditorPage: the widgets of the GNOME editor and the Form they hold, once
// for GTK 3 and GTK 4 (what differs is behind widgets.h; the file chooser
// is GtkFileDialog from GTK 4.10 on, GtkFileChooserNative before).
#include "editor/gtk/editor_page.h"

#include <libintl.h>

// libnma 1.10's headers declare their functions without extern "C".
extern "C" {
#include <nma-ui-utils.h>
}

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/i18n.h"
#include "editor/gtk/widgets.h"
#include "editor/import_export.h"

namespace nmks::wg {

using widgets::Append;

namespace {

// Indices into FormFields(): the interface, then peer 0.
constexpr size_t kFirstInterfaceField = 0;
constexpr size_t kFirstPeerField = 6;

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
  Append(box, grid);
  return grid;
}

GtkWidget* Check(const char* name, const char* label, bool active) {
  GtkWidget* check = gtk_check_button_new_with_label(label);
  gtk_widget_set_name(check, name);
  widgets::SetChecked(check, active);
  return check;
}

NMSettingSecretFlags SecretFlags(NMSettingVpn* vpn, const std::string& key) {
  NMSettingSecretFlags flags = NM_SETTING_SECRET_FLAG_NONE;
  if (vpn) nm_setting_get_secret_flags(NM_SETTING(vpn), key.c_str(), &flags, nullptr);
  return flags;
}

std::string Trimmed(const char* text) {
  GFreePtr<char> copy(g_strdup(text ? text : ""));
  return g_strstrip(copy.get());
}

void SetPlaceholder(GtkWidget* entry, const char* text) {
  gtk_entry_set_placeholder_text(GTK_ENTRY(entry), text);
}

}  // namespace

EditorPage::EditorPage(NMConnection* connection, std::function<void()> changed)
    : changed_(std::move(changed)) {
  NMSettingVpn* vpn = nm_connection_get_setting_vpn(connection);
  if (vpn) kept_.reset(NM_SETTING_VPN(nm_setting_duplicate(NM_SETTING(vpn))));
  fields_ = FormFields(kept_.get());

  GtkWidget* box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
  for (auto margin : {gtk_widget_set_margin_top, gtk_widget_set_margin_bottom,
                      gtk_widget_set_margin_start, gtk_widget_set_margin_end}) {
    margin(box, 12);
  }
  root_.reset(GTK_WIDGET(g_object_ref_sink(box)));
  entries_.assign(fields_.size(), nullptr);
  labels_.reset(gtk_size_group_new(GTK_SIZE_GROUP_HORIZONTAL));
  problem_ = gtk_label_new(nullptr);
  gtk_widget_set_name(problem_, "problem");
  widgets::Wrap(problem_);
  gtk_label_set_xalign(GTK_LABEL(problem_), 0);
  widgets::MarkError(problem_, true);
  widgets::StartHidden(problem_);
  Append(box, problem_);
  BuildFileButton(box);
  BuildInterface(box);
  BuildPeer(box);
  BuildOtherPeers(box);
  BuildKillSwitch(box);
  widgets::ShowAll(box);
}

// The page an open file chooser reports to; cleared when the page goes
// first, so a late answer finds nothing.
constexpr char kChooserPage[] = "nmks-editor-page";

EditorPage::~EditorPage() {
  if (chooser_) {
    g_object_set_data(chooser_.get(), kChooserPage, nullptr);
#if GTK_CHECK_VERSION(4, 10, 0)
    g_cancellable_cancel(G_CANCELLABLE(chooser_.get()));
#else
    gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(chooser_.get()));
#endif
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
  widgets::SetText(entry, field.text);
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
  Append(box, button);
}

void EditorPage::OpenFileChooser() {
  if (chooser_) return;  // one at a time
  GtkWindow* parent = widgets::WindowOf(root_.get());
  const GObjectPtr<GtkFileFilter> filters[] = {
      widgets::NewFileFilter(_("WireGuard files (*.conf)"), "*.conf"),
      widgets::NewFileFilter(_("All files"), "*")};
#if GTK_CHECK_VERSION(4, 10, 0)
  GObjectPtr<GListStore> list(g_list_store_new(GTK_TYPE_FILE_FILTER));
  for (const auto& filter : filters) g_list_store_append(list.get(), filter.get());
  GObjectPtr<GtkFileDialog> dialog(gtk_file_dialog_new());
  gtk_file_dialog_set_title(dialog.get(), _("Choose a WireGuard file"));
  gtk_file_dialog_set_filters(dialog.get(), G_LIST_MODEL(list.get()));
  chooser_.reset(G_OBJECT(g_cancellable_new()));
  g_object_set_data(chooser_.get(), kChooserPage, this);
  // The answer comes after this returns; chooser_ is cleared there, or by
  // the destructor.
  gtk_file_dialog_open(dialog.get(), parent, G_CANCELLABLE(chooser_.get()),
                       &EditorPage::OnFileChosen, g_object_ref(chooser_.get()));
#else
  GtkFileChooserNative* native = gtk_file_chooser_native_new(
      _("Choose a WireGuard file"), parent, GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  for (const auto& filter : filters) {
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(native), filter.get());
  }
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(native), TRUE);
  chooser_.reset(G_OBJECT(native));
  g_object_set_data(chooser_.get(), kChooserPage, this);
  g_signal_connect(native, "response", G_CALLBACK(&EditorPage::OnChooserResponse), nullptr);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(native));
#endif
}

#if GTK_CHECK_VERSION(4, 10, 0)
// `chooser` is the page's GCancellable, with a reference for this call.
void EditorPage::OnFileChosen(GObject* dialog, GAsyncResult* result, gpointer chooser) {
  GObjectPtr<GObject> held(G_OBJECT(chooser));
  GError* error = nullptr;
  GObjectPtr<GFile> file(gtk_file_dialog_open_finish(GTK_FILE_DIALOG(dialog), result, &error));
  if (error) g_error_free(error);  // dismissed or cancelled: nothing to read
  auto* page = static_cast<EditorPage*>(g_object_get_data(held.get(), kChooserPage));
  if (!page) return;  // the page went first
  g_object_set_data(held.get(), kChooserPage, nullptr);
  page->chooser_.reset();
  GFreePtr<char> path(file ? g_file_get_path(file.get()) : nullptr);
  if (path) page->FillFromFile(path.get());
}
#else
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
#endif

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
    widgets::SetText(entries_[i], fields[i].text);
  }
  gtk_widget_set_visible(problem_, FALSE);
  if (changed_) changed_();
}

void EditorPage::ShowProblem(const std::string& message) {
  gtk_label_set_text(GTK_LABEL(problem_), message.c_str());
  gtk_widget_set_visible(problem_, TRUE);
}

void EditorPage::BuildInterface(GtkWidget* box) {
  Append(box, Heading(_("WireGuard interface")));
  GtkGrid* grid = GTK_GRID(NewGrid(box));
  for (size_t i = kFirstInterfaceField; i < kFirstPeerField; ++i) {
    AddField(grid, static_cast<int>(i - kFirstInterfaceField), i);
  }
  SetPlaceholder(entries_[1], "192.0.2.2/32, 2001:db8::2/128");
  SetPlaceholder(entries_[4], _("automatic"));
  SetPlaceholder(entries_[5], _("random"));
}

void EditorPage::BuildPeer(GtkWidget* box) {
  Append(box, Heading(_("Peer")));
  GtkGrid* grid = GTK_GRID(NewGrid(box));
  for (size_t i = kFirstPeerField; i < fields_.size(); ++i) {
    AddField(grid, static_cast<int>(i - kFirstPeerField), i);
  }
  SetPlaceholder(entries_[kFirstPeerField + 2], "vpn.example.net:51820");
  SetPlaceholder(entries_[kFirstPeerField + 3], "0.0.0.0/0, ::/0");
  SetPlaceholder(entries_[kFirstPeerField + 4], _("off"));
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
  Append(box, Heading(_("Other peers")));
  GtkWidget* label = gtk_label_new((note + "\n" + list).c_str());
  gtk_widget_set_name(label, "other-peers");
  widgets::Wrap(label);
  gtk_label_set_selectable(GTK_LABEL(label), TRUE);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_widget_set_margin_start(label, 12);
  Append(box, label);
}

void EditorPage::BuildKillSwitch(GtkWidget* box) {
  Options o = FormOptions(kept_.get());
  Append(box, Heading(_("Kill switch")));
  GtkGrid* grid = GTK_GRID(NewGrid(box));
  const char* mode = o.kill_switch == Options::KillSwitch::kLockdown ? "lockdown"
                     : o.kill_switch == Options::KillSwitch::kOff    ? "off"
                                                                     : "on";
  kill_switch_ =
      widgets::NewChoice(kKeyKillSwitch,
                         {{"on", _("On: released when you switch the VPN off")},
                          {"lockdown", _("Lockdown: stays until an administrator releases it")},
                          {"off", _("Off: a plain WireGuard VPN")}},
                         mode);
  AddRow(grid, 0, _("Kill switch"), kill_switch_);
  ipv6_ = widgets::NewChoice(
      kKeyIpv6,
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
  for (GtkWidget* choice : {kill_switch_, ipv6_}) {
    g_signal_connect_swapped(choice, widgets::kChoiceChanged, G_CALLBACK(OnEdit), this);
  }
  for (GtkWidget* check : {allow_lan_, block_at_boot_}) {
    g_signal_connect_swapped(check, "toggled", G_CALLBACK(OnEdit), this);
  }
}

Form EditorPage::ReadForm() const {
  Form form;
  form.fields = fields_;
  for (size_t i = 0; i < fields_.size(); ++i) {
    form.fields[i].text = Trimmed(widgets::Text(entries_[i]).c_str());
    if (fields_[i].key == kSecretPrivateKey) {
      form.private_key_flags = nma_utils_menu_to_secret_flags(entries_[i]);
    } else if (fields_[i].secret) {
      form.preshared_key_flags = nma_utils_menu_to_secret_flags(entries_[i]);
    }
  }
  std::string mode = widgets::ChosenId(kill_switch_);
  form.options.kill_switch = mode == "lockdown" ? Options::KillSwitch::kLockdown
                             : mode == "off"    ? Options::KillSwitch::kOff
                                                : Options::KillSwitch::kOn;
  form.options.allow_lan = widgets::Checked(allow_lan_);
  form.options.block_at_boot = widgets::Checked(block_at_boot_);
  std::string ipv6 = widgets::ChosenId(ipv6_);
  form.options.ipv6 = ipv6 == "block" ? Options::Ipv6::kBlock : Options::Ipv6::kAuto;
  return form;
}

bool EditorPage::Save(NMConnection* connection, GError** error) {
  for (GtkWidget* entry : entries_) widgets::MarkError(entry, false);
  FormError fault;
  if (ApplyForm(ReadForm(), kept_.get(), connection, &fault)) {
    gtk_widget_set_visible(problem_, FALSE);
    return true;
  }
  if (fault.field >= 0) widgets::MarkError(entries_[fault.field], true);
  ShowProblem(fault.message);
  g_set_error_literal(error, NM_CONNECTION_ERROR, NM_CONNECTION_ERROR_INVALID_PROPERTY,
                      fault.message.c_str());
  return false;
}

}  // namespace nmks::wg
