// The GNOME editor's page, built in code: the WireGuard interface, the
// first peer (further peers are listed read-only and kept as they are) and
// the kill-switch options, filled from a connection. Every widget that
// edits a vpn.data item or secret is named after it ("peer.0.endpoint",
// "kill-switch"), so tests and accessibility tools can find it. Written
// once and built twice, against GTK 3 and against GTK 4: what differs
// between them is behind widgets.h; what the page holds is a Form
// (editor_form.h).
#pragma once

#include <gtk/gtk.h>

#include <functional>
#include <string>
#include <vector>

#include "base/glib_ptr.h"
#include "base/libnm.h"
#include "editor/gtk/editor_form.h"

namespace nmks::wg {

class EditorPage {
 public:
  // Shows `connection`'s vpn setting (none: an empty page for a new
  // connection). `changed` runs on every edit the user makes.
  EditorPage(NMConnection* connection, std::function<void()> changed);
  ~EditorPage();
  EditorPage(const EditorPage&) = delete;
  EditorPage& operator=(const EditorPage&) = delete;

  // The page's top widget; the page holds a reference.
  GtkWidget* widget() const { return root_.get(); }

  // Checks the page and writes it into `connection` (see ApplyForm); marks
  // the field at fault. False and `error` set when something is not valid.
  bool Save(NMConnection* connection, GError** error);

  // What the page's "Fill in from a WireGuard file…" button does with the
  // file the user chose: the WireGuard fields show the
  // wg-quick file's interface and first peer, and its further peers are
  // what Save keeps; the kill-switch choices stay as they are. A file that
  // cannot be read changes nothing and is named in the page's problem line.
  // GNOME Settings 46 and later hand "Import from file…" to
  // NetworkManager's own WireGuard importer, which makes a connection
  // without the kill switch: this is how a provider's file gets into ours.
  void FillFromFile(const char* path);

 private:
  static void OnEdit(EditorPage* page);
  void BuildFileButton(GtkWidget* box);
  void OpenFileChooser();
  // The file chooser's answer: GtkFileDialog's (GTK 4.10 and later) or
  // GtkFileChooserNative's.
  static void OnFileChosen(GObject* dialog, GAsyncResult* result, gpointer chooser);
  static void OnChooserResponse(GtkNativeDialog* dialog, int response, gpointer data);
  void ShowProblem(const std::string& message);
  GtkWidget* AddRow(GtkGrid* grid, int row, const char* label, GtkWidget* widget);
  GtkWidget* AddField(GtkGrid* grid, int row, size_t field);
  void BuildInterface(GtkWidget* box);
  void BuildPeer(GtkWidget* box);
  void BuildOtherPeers(GtkWidget* box);
  void BuildKillSwitch(GtkWidget* box);
  Form ReadForm() const;

  GObjectPtr<NMSettingVpn> kept_;  // the vpn setting as the page was opened
  std::vector<FormField> fields_;  // labels and keys; the text is in entries_
  std::vector<GtkWidget*> entries_;
  GtkWidget* kill_switch_ = nullptr;
  GtkWidget* allow_lan_ = nullptr;
  GtkWidget* block_at_boot_ = nullptr;
  GtkWidget* ipv6_ = nullptr;
  // Says what is wrong while the page cannot be saved: programs such as
  // GNOME Settings only grey out their Add/Apply button.
  GtkWidget* problem_ = nullptr;
  // The file chooser while it is open: closed with the page.
  GObjectPtr<GObject> chooser_;
  GtkWidget* file_button_ = nullptr;
  GObjectPtr<GtkSizeGroup> labels_;  // one width for the labels of every section
  GObjectPtr<GtkWidget> root_;
  std::function<void()> changed_;
};

}  // namespace nmks::wg
