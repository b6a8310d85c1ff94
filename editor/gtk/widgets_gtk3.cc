// widgets.h in GTK 3 calls (nm-connection-editor's editor module).
#include <gtk/gtk.h>

#include <string>
#include <vector>

#include "editor/gtk/widgets.h"

namespace nmks::wg::widgets {

void Append(GtkWidget* box, GtkWidget* child) {
  gtk_box_pack_start(GTK_BOX(box), child, FALSE, FALSE, 0);
}

void Wrap(GtkWidget* label) { gtk_label_set_line_wrap(GTK_LABEL(label), TRUE); }

void MarkError(GtkWidget* widget, bool error) {
  GtkStyleContext* style = gtk_widget_get_style_context(widget);
  if (error) {
    gtk_style_context_add_class(style, GTK_STYLE_CLASS_ERROR);
  } else {
    gtk_style_context_remove_class(style, GTK_STYLE_CLASS_ERROR);
  }
}

void ShowAll(GtkWidget* top) { gtk_widget_show_all(top); }

void StartHidden(GtkWidget* widget) {
  gtk_widget_set_no_show_all(widget, TRUE);
  gtk_widget_hide(widget);
}

GtkWindow* WindowOf(GtkWidget* widget) {
  GtkWidget* top = gtk_widget_get_toplevel(widget);
  return top && GTK_IS_WINDOW(top) ? GTK_WINDOW(top) : nullptr;
}

std::string Text(GtkWidget* entry) { return gtk_entry_get_text(GTK_ENTRY(entry)); }

void SetText(GtkWidget* entry, const std::string& text) {
  gtk_entry_set_text(GTK_ENTRY(entry), text.c_str());
}

bool Checked(GtkWidget* check) { return gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(check)); }

void SetChecked(GtkWidget* check, bool active) {
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(check), active);
}

GtkWidget* NewChoice(const char* name, const std::vector<Choice>& choices, const char* active) {
  GtkWidget* combo = gtk_combo_box_text_new();
  gtk_widget_set_name(combo, name);
  for (const Choice& c : choices) {
    gtk_combo_box_text_append(GTK_COMBO_BOX_TEXT(combo), c.id, c.label);
  }
  gtk_combo_box_set_active_id(GTK_COMBO_BOX(combo), active);
  return combo;
}

std::string ChosenId(GtkWidget* choice) {
  const char* id = gtk_combo_box_get_active_id(GTK_COMBO_BOX(choice));
  return id ? id : "";
}

bool Choose(GtkWidget* choice, const std::string& id) {
  return gtk_combo_box_set_active_id(GTK_COMBO_BOX(choice), id.c_str());
}

const char kChoiceChanged[] = "changed";

GObjectPtr<GtkFileFilter> NewFileFilter(const char* name, const char* pattern) {
  // A GTK 3 filter starts with a floating reference.
  GObjectPtr<GtkFileFilter> filter(GTK_FILE_FILTER(g_object_ref_sink(gtk_file_filter_new())));
  gtk_file_filter_set_name(filter.get(), name);
  gtk_file_filter_add_pattern(filter.get(), pattern);
  return filter;
}

}  // namespace nmks::wg::widgets
