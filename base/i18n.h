// Translation of user-visible strings. Every message a user can see goes
// through _() (or N_() where it is translated later) in the nm-killswitch
// gettext domain, so the same catalogue serves every program and library.
#pragma once

#include <libintl.h>

#include <string>

#ifndef GETTEXT_PACKAGE
#error "GETTEXT_PACKAGE must be defined by the build"
#endif

#define _(s) dgettext(GETTEXT_PACKAGE, s)
#define N_(s) s

namespace nmks {

// printf-style formatting into a std::string; the format is usually _("...").
std::string Format(const char* format, ...) __attribute__((format(printf, 1, 2)));

// Binds the gettext domain to the installed catalogues. Call once in main().
void InitTranslations();

}  // namespace nmks
