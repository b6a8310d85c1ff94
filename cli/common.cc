#include "cli/common.h"

#include <cstdio>

#include "base/i18n.h"

namespace nmks::cli {

void PrintError(const std::string& message) {
  std::fprintf(stderr, "nm-killswitch: %s\n", message.c_str());
}

bool ParseVerbOptions(const char* parameters, const char* summary, const GOptionEntry* entries,
                      int* argc, char*** argv, int* exit_code) {
  GOptionContext* context = g_option_context_new(parameters);
  g_option_context_set_summary(context, summary);
  g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
  if (entries != nullptr) g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
  GError* error = nullptr;
  bool parsed = g_option_context_parse(context, argc, argv, &error);
  g_option_context_free(context);
  if (!parsed) {
    PrintError(error->message);
    std::fprintf(stderr, _("Try '%s --help'.\n"), (*argv)[0]);
    g_clear_error(&error);
    *exit_code = 2;
  }
  return parsed;
}

}  // namespace nmks::cli
