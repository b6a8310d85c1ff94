// nm-killswitch: the command-line client of nm-killswitch-guard.
#include <cstdio>
#include <cstring>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/opt_in_program.h"
#include "cli/verbs.h"

namespace {

struct Verb {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

const Verb kVerbs[] = {
    {"engage", nmks::cli::EngageCommand,
     N_("block everything but the given tunnels and endpoints")},
    {"release", nmks::cli::ReleaseCommand, N_("let traffic out again (administrators)")},
    {"status", nmks::cli::StatusCommand, N_("show what is engaged and what was stopped")},
    {"verify", nmks::cli::VerifyCommand,
     N_("self-test: try to leak, and show that nothing got out")},
    {"boot", nmks::cli::BootCommand, N_("on|off: block traffic at boot until the VPN is up")},
    // enable and disable run in nm-killswitch-opt-in (the one with libnm).
    {"enable", nmks::cli::RunOptInProgram,
     N_("give a NetworkManager OpenVPN, OpenConnect or WireGuard connection the kill switch")},
    {"disable", nmks::cli::RunOptInProgram, N_("take the kill switch away from a connection")},
    {"teardown", nmks::cli::TeardownCommand,
     N_("release everything and turn blocking at boot off, as removing the package does")},
};

void Usage(FILE* out) {
  std::fprintf(out, _("Usage: nm-killswitch COMMAND [OPTION...]\n\nCommands:\n"));
  for (const Verb& v : kVerbs) std::fprintf(out, "  %-9s %s\n", v.name, _(v.summary));
  std::fprintf(out, _("\nRun 'nm-killswitch COMMAND --help' for the options of a command.\n"));
}

}  // namespace

int main(int argc, char** argv) {
  nmks::InitTranslations();
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    Usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::printf("nm-killswitch %s\n", NMKS_VERSION);
    return 0;
  }
  for (const Verb& v : kVerbs) {
    if (std::strcmp(argv[1], v.name) == 0) return nmks::cli::RunVerb(v.run, argc - 1, argv + 1);
  }
  std::fprintf(stderr, _("nm-killswitch: unknown command \"%s\"\n"), argv[1]);
  Usage(stderr);
  return 2;
}
