// nm-killswitch-opt-in: `nm-killswitch enable` and `nm-killswitch disable`,
// which edit NetworkManager connections with libnm. nm-killswitch runs it
// as `nm-killswitch-opt-in VERB ARGS...` (cli/opt_in_program.h).
#include <cstdio>
#include <cstring>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/verbs.h"

int main(int argc, char** argv) {
  nmks::InitTranslations();
  if (argc >= 2 && std::strcmp(argv[1], "enable") == 0) {
    return nmks::cli::RunVerb(nmks::cli::EnableCommand, argc - 1, argv + 1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "disable") == 0) {
    return nmks::cli::RunVerb(nmks::cli::DisableCommand, argc - 1, argv + 1);
  }
  std::fprintf(stderr, _("nm-killswitch-opt-in: run as \"nm-killswitch enable\" or "
                         "\"nm-killswitch disable\"\n"));
  return 2;
}
