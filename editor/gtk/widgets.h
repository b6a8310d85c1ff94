// The few widget calls that differ between GTK 3 and GTK 4, each under one
// name, so that the editor page (editor_page.cc) is written once and built
// against either: widgets_gtk3.cc holds the GTK 3 calls, widgets_gtk4.cc
// the GTK 4 ones, and each editor module links the one of its GTK. A
// "choice" is a GtkComboBoxText in GTK 3 and a GtkDropDown in GTK 4; either
// way its rows hold vpn.data values and show their labels.
#pragma once

#include <gtk/gtk.h>

#include <string>
#include <vector>

#include "base/glib_ptr.h"

namespace nmks::wg::widgets {

// Puts `child` at the end of the vertical `box`, at its natural height.
void Append(GtkWidget* box, GtkWidget* child);
// Lets `label` wrap its text at word boundaries.
void Wrap(GtkWidget* label);
// Marks `widget` with (or clears) the theme's "error" style.
void MarkError(GtkWidget* widget, bool error);
// Shows every widget under `top` but those StartHidden (GTK 3 makes widgets
// hidden; GTK 4 shows them). Call it once, when the page is built.
void ShowAll(GtkWidget* top);
// Hides `widget` until it is shown by itself: a program that shows all of
// its window (as GTK 3 programs do) leaves it hidden.
void StartHidden(GtkWidget* widget);
// The window `widget` is in, or nullptr.
GtkWindow* WindowOf(GtkWidget* widget);

std::string Text(GtkWidget* entry);
void SetText(GtkWidget* entry, const std::string& text);

bool Checked(GtkWidget* check);
void SetChecked(GtkWidget* check, bool active);

struct Choice {
  const char* id;  // the vpn.data value
  const char* label;
};
// A choice named `name` with `choices`, `active` selected.
GtkWidget* NewChoice(const char* name, const std::vector<Choice>& choices, const char* active);
// The id of the row `choice` shows ("" when none).
std::string ChosenId(GtkWidget* choice);
// Selects the row with `id`; false when there is none.
bool Choose(GtkWidget* choice, const std::string& id);
// The signal a choice emits when the user picks another row.
extern const char kChoiceChanged[];

// A file filter for a file chooser, owned by the caller.
GObjectPtr<GtkFileFilter> NewFileFilter(const char* name, const char* pattern);

}  // namespace nmks::wg::widgets
