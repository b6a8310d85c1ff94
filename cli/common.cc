#include "cli/common.h"

#include <cstdio>
#include <string>
#include <vector>

#include "base/i18n.h"
#include "base/options.h"
#include "base/status.h"

namespace nmks::cli {

void PrintError(const std::string& message) {
  std::fprintf(stderr, "nm-killswitch: %s\n", message.c_str());
}

bool ParseVerbOptions(const char* parameters, const char* summary, const GOptionEntry* entries,
                      int* argc, char*** argv, int* exit_code) {
  Status parsed = ParseOptions(parameters, summary, entries, argc, argv);
  if (!parsed.ok()) {
    PrintError(parsed.message());
    std::fprintf(stderr, _("Try '%s --help'.\n"), (*argv)[0]);
    *exit_code = 2;
  }
  return parsed.ok();
}

bool ParseNameVerb(const char* summary, const char* missing, const GOptionEntry* entries, int* argc,
                   char*** argv, int* exit_code) {
  if (!ParseVerbOptions(_("NAME"), summary, entries, argc, argv, exit_code)) return false;
  if (*argc != 2) {
    PrintError(*argc < 2 ? missing : Format(_("unexpected argument \"%s\""), (*argv)[2]));
    *exit_code = 2;
    return false;
  }
  return true;
}

int RunVerb(int (*run)(int, char**), int argc, char** argv) {
  std::string prog = std::string("nm-killswitch ") + argv[0];
  std::vector<char*> args(argv, argv + argc);
  args[0] = prog.data();
  args.push_back(nullptr);
  return run(static_cast<int>(args.size() - 1), args.data());
}

}  // namespace nmks::cli
