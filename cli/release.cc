#include <cstdio>
#include <string>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/verbs.h"
#include "guard/client.h"

namespace nmks::cli {

int ReleaseCommand(int argc, char** argv) {
  g_autofree gchar* connection = nullptr;
  gboolean all = FALSE;
  GOptionEntry entries[] = {
      {"connection", 0, 0, G_OPTION_ARG_STRING, &connection,
       N_("The connection to release (default: command-line)"), N_("NAME")},
      {"all", 0, 0, G_OPTION_ARG_NONE, &all, N_("Release every engaged connection"), nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  int code = 0;
  if (!ParseVerbOptions(
          nullptr,
          _("Let traffic out again. Needs administrator rights; releasing a lockdown kill "
            "switch always asks for an administrator."),
          entries, &argc, &argv, &code)) {
    return code;
  }
  if (argc > 1 || (all && connection)) {
    PrintError(_("give either --connection NAME or --all"));
    return 2;
  }
  auto guard = GuardClient::Connect();
  if (!guard.ok()) {
    PrintError(guard.message());
    return 1;
  }
  std::string id = connection ? connection : "command-line";
  Status s = all ? guard.value()->ReleaseAll() : guard.value()->Release(id);
  if (!s.ok()) {
    PrintError(Format(_("%s; blocking stays as it was"), s.message().c_str()));
    return 1;
  }
  if (all) {
    std::printf(_("Kill switch released: traffic is no longer blocked.\n"));
  } else {
    std::printf(_("Released \"%s\". Run `nm-killswitch status` to see whether other connections "
                  "still block traffic.\n"),
                id.c_str());
  }
  return 0;
}

}  // namespace nmks::cli
