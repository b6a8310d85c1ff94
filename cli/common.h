// What every verb of the command shares: option parsing and error output.
#pragma once

#include <glib.h>

#include <string>

namespace nmks::cli {

// Prints "nm-killswitch: MESSAGE" to stderr.
void PrintError(const std::string& message);

// Parses the verb's options with GOption; prints usage on error. Returns
// false (and sets *exit_code) when the program should stop.
bool ParseOptions(GOptionContext* context, int* argc, char*** argv, int* exit_code);

}  // namespace nmks::cli
