// widgets.h in GTK 4 calls (GNOME Settings' editor module).
#include <gtk/gtk.h>

#include <string>
#include <vector>

#include "editor/gtk/widgets.h"

namespace nmks::wg::widgets {
namespace {

using Choices = std::vector<Choice>;

// A row of a drop-down shows the label of the vpn.data value it holds.
void SetUpChoiceRow(GtkSignalListItemFactory* /*factory*/, GtkListItem* item, gpointer /*data*/) {
  GtkWidget* label = gtk_label_new(nullptr);
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child(item, label);
}

void BindChoiceRow(GtkSignalListItemFactory* /*factory*/, GtkListItem* item, gpointer data) {
  const char* id = gtk_string_object_get_string(GTK_STRING_OBJECT(gtk_list_item_get_item(item)));
  const char* text = id;
  for (const Choice& c : *static_cast<const Choices*>(data)) {
    if (g_strcmp0(c.id, id) == 0) text = c.label;
  }
  gtk_label_set_text(GTK_LABEL(gtk_list_item_get_child(item)), text);
}

}  // namespace

void Append(GtkWidget* box, GtkWidget* child) { gtk_box_append(GTK_BOX(box), child); }

void Wrap(GtkWidget* label) { gtk_label_set_wrap(GTK_LABEL(label), TRUE); }

void MarkError(GtkWidget* widget, bool error) {
  if (error) {
    gtk_widget_add_css_class(widget, "error");
  } else {
    gtk_widget_remove_css_class(widget, "error");
  }
}

void ShowAll(GtkWidget* /*top*/) {}  // GTK 4 widgets are visible from the start

void StartHidden(GtkWidget* widget) { gtk_widget_set_visible(widget, FALSE); }

GtkWindow* WindowOf(GtkWidget* widget) {
  GtkRoot* root = gtk_widget_get_root(widget);
  return root && GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : nullptr;
}

std::string Text(GtkWidget* entry) { return gtk_editable_get_text(GTK_EDITABLE(entry)); }

void SetText(GtkWidget* entry, const std::string& text) {
  gtk_editable_set_text(GTK_EDITABLE(entry), text.c_str());
}

bool Checked(GtkWidget* check) { return gtk_check_button_get_active(GTK_CHECK_BUTTON(check)); }

void SetChecked(GtkWidget* check, bool active) {
  gtk_check_button_set_active(GTK_CHECK_BUTTON(check), active);
}

// A drop-down whose model holds the ids of `choices`.
GtkWidget* NewChoice(const char* name, const std::vector<Choice>& choices, const char* active) {
  GtkStringList* ids = gtk_string_list_new(nullptr);
  for (const Choice& c : choices) gtk_string_list_append(ids, c.id);
  GObjectPtr<GtkListItemFactory> factory(gtk_signal_list_item_factory_new());
  g_signal_connect(factory.get(), "setup", G_CALLBACK(SetUpChoiceRow), nullptr);
  // The labels go with the factory and are freed with it.
  g_signal_connect_data(
      factory.get(), "bind", G_CALLBACK(BindChoiceRow), new Choices(choices),
      [](gpointer data, GClosure*) { delete static_cast<Choices*>(data); }, GConnectFlags(0));
  GtkWidget* drop_down = gtk_drop_down_new(G_LIST_MODEL(ids), nullptr);  // takes `ids`
  gtk_drop_down_set_factory(GTK_DROP_DOWN(drop_down), factory.get());
  gtk_widget_set_name(drop_down, name);
  Choose(drop_down, active);
  return drop_down;
}

std::string ChosenId(GtkWidget* choice) {
  gpointer item = gtk_drop_down_get_selected_item(GTK_DROP_DOWN(choice));
  return item ? gtk_string_object_get_string(GTK_STRING_OBJECT(item)) : "";
}

bool Choose(GtkWidget* choice, const std::string& id) {
  GListModel* model = gtk_drop_down_get_model(GTK_DROP_DOWN(choice));
  for (guint i = 0; i < g_list_model_get_n_items(model); ++i) {
    GObjectPtr<GtkStringObject> item(GTK_STRING_OBJECT(g_list_model_get_item(model, i)));
    if (id == gtk_string_object_get_string(item.get())) {
      gtk_drop_down_set_selected(GTK_DROP_DOWN(choice), i);
      return true;
    }
  }
  return false;
}

const char kChoiceChanged[] = "notify::selected";

GObjectPtr<GtkFileFilter> NewFileFilter(const char* name, const char* pattern) {
  GObjectPtr<GtkFileFilter> filter(gtk_file_filter_new());
  gtk_file_filter_set_name(filter.get(), name);
  gtk_file_filter_add_pattern(filter.get(), pattern);
  return filter;
}

}  // namespace nmks::wg::widgets
