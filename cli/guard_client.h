// The command's connection to nm-killswitch-guard on the system bus.
#pragma once

#include <gio/gio.h>

#include <string>

#include "guard-dbus.h"
#include "rules/status.h"

namespace nmks::cli {

// Connects to the guard (D-Bus activation starts it when installed).
Result<NmksDBusGuard1*> ConnectGuard();

// A user-facing message for a failed call, without D-Bus decoration.
std::string CallError(GError* error);

// Prints "nm-killswitch: MESSAGE" to stderr.
void PrintError(const std::string& message);

// Parses the verb's options with GOption; prints usage on error. Returns
// false (and sets *exit_code) when the program should stop.
bool ParseOptions(GOptionContext* context, int* argc, char*** argv, int* exit_code);

}  // namespace nmks::cli
