// Command-line options the GLib way, for every program of the project: the
// summary and each option's description are translated in our gettext
// domain, and --help lists them.
#pragma once

#include <glib.h>

#include "base/status.h"

namespace nmks {

// Parses `*argc`/`*argv` against `entries` (ending in a null entry; may be
// null), leaving the arguments that are not options. `parameters` ("NAME",
// or null) and `summary` show in --help. A bad option is an error with
// GLib's message, which names it.
Status ParseOptions(const char* parameters, const char* summary, const GOptionEntry* entries,
                    int* argc, char*** argv);

}  // namespace nmks
