#include "cli/common.h"

#include <cstdio>

#include "rules/i18n.h"

namespace nmks::cli {

void PrintError(const std::string& message) {
  std::fprintf(stderr, "nm-killswitch: %s\n", message.c_str());
}

bool ParseOptions(GOptionContext* context, int* argc, char*** argv, int* exit_code) {
  g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
  GError* error = nullptr;
  if (!g_option_context_parse(context, argc, argv, &error)) {
    PrintError(error->message);
    std::fprintf(stderr, _("Try '%s --help'.\n"), (*argv)[0]);
    g_clear_error(&error);
    *exit_code = 2;
    return false;
  }
  return true;
}

}  // namespace nmks::cli
