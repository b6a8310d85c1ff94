#include <cstdio>
#include <cstring>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/verbs.h"
#include "guard/client.h"

namespace nmks::cli {

int BootCommand(int argc, char** argv) {
  g_autofree gchar* connection = nullptr;
  GOptionEntry entries[] = {
      {"connection", 0, 0, G_OPTION_ARG_STRING, &connection,
       N_("Only this connection (default: every engaged connection)"), N_("NAME")},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  int code = 0;
  if (!ParseVerbOptions(
          "on|off",
          _("on: load the engaged kill switch at every boot, before the network starts, so "
            "nothing leaks until the VPN is up. off: stop doing that."),
          entries, &argc, &argv, &code)) {
    return code;
  }
  if (argc != 2 || (std::strcmp(argv[1], "on") != 0 && std::strcmp(argv[1], "off") != 0)) {
    PrintError(_("say on or off, e.g. `nm-killswitch boot on`"));
    return 2;
  }
  bool on = std::strcmp(argv[1], "on") == 0;
  auto guard = GuardClient::Connect();
  if (!guard.ok()) {
    PrintError(guard.message());
    return 1;
  }
  if (Status s = guard.value()->SetBlockAtBoot(connection ? connection : "", on); !s.ok()) {
    PrintError(s.message());
    return 1;
  }
  std::printf(on ? _("Traffic will be blocked at boot until the VPN is up.\n")
                 : _("Traffic will no longer be blocked at boot.\n"));
  return 0;
}

}  // namespace nmks::cli
