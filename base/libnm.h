// Include this instead of <NetworkManager.h> in C++. libnm 1.42's
// nm-errors.h declares its error quarks (nm_connection_error_quark, ...)
// without extern "C", so C++ code using NM_CONNECTION_ERROR would link
// against a mangled name that libnm does not export. Harmless once fixed.
#pragma once

#include <glib.h>

extern "C" {
#include <nm-errors.h>
}
#include <NetworkManager.h>
