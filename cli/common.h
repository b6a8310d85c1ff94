// What every verb of the command shares: option parsing and error output.
#pragma once

#include <glib.h>

#include <string>

namespace nmks::cli {

// Prints "nm-killswitch: MESSAGE" to stderr.
void PrintError(const std::string& message);

// Parses a verb's options with GOption: `parameters` (the words after the
// options in --help, or null), `summary` (translated), `entries` (ending
// with a null entry, or null for none). Prints usage on error. Returns
// false (and sets *exit_code) when the program should stop.
bool ParseVerbOptions(const char* parameters, const char* summary, const GOptionEntry* entries,
                      int* argc, char*** argv, int* exit_code);

// ParseVerbOptions for a verb that takes exactly one NAME (a connection):
// `missing` (translated) says what to do without one. When it returns
// true, (*argv)[1] is the NAME.
bool ParseNameVerb(const char* summary, const char* missing, const GOptionEntry* entries, int* argc,
                   char*** argv, int* exit_code);

// Runs a verb as "nm-killswitch VERB": argv[0] is the verb, and GOption
// prints the new argv[0] in its usage line.
int RunVerb(int (*run)(int, char**), int argc, char** argv);

}  // namespace nmks::cli
