#include "base/options.h"

#include <string>

namespace nmks {

Status ParseOptions(const char* parameters, const char* summary, const GOptionEntry* entries,
                    int* argc, char*** argv) {
  GOptionContext* context = g_option_context_new(parameters);
  g_option_context_set_summary(context, summary);
  g_option_context_set_translation_domain(context, GETTEXT_PACKAGE);
  if (entries != nullptr) g_option_context_add_main_entries(context, entries, GETTEXT_PACKAGE);
  GError* error = nullptr;
  const bool parsed = g_option_context_parse(context, argc, argv, &error);
  g_option_context_free(context);
  if (parsed) return Status::Ok();
  std::string message = error->message;
  g_clear_error(&error);
  return Status::Error(message);
}

}  // namespace nmks
