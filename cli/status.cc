#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/json.h"
#include "cli/verbs.h"
#include "guard/client.h"
#include "guard/guard_status.h"
#include "guard/policy_variant.h"
#include "rules/ruleset.h"

namespace nmks::cli {
namespace {

// `count`: how many endpoints the connection has; `p` holds a sample.
void PrintConnection(const std::string& id, const Policy& p, size_t count, bool at_boot) {
  std::printf("  %s\n", id.c_str());
  std::string tunnels;
  for (const auto& t : p.tunnels) tunnels += (tunnels.empty() ? "" : ", ") + t;
  std::printf(_("    tunnels:   %s\n"), tunnels.empty() ? _("(none)") : tunnels.c_str());
  if (count == 0) std::printf(_("    endpoints: (none)\n"));
  for (size_t i = 0; i < p.endpoints.size(); ++i) {
    const Endpoint& e = p.endpoints[i];
    if (i == 8) break;
    if (e.mark) {
      std::printf(_("    endpoint:  %s (only from the VPN itself, fwmark 0x%x)\n"),
                  e.ToString().c_str(), *e.mark);
    } else {
      std::printf(_("    endpoint:  %s\n"), e.ToString().c_str());
    }
  }
  if (count > std::min<size_t>(8, p.endpoints.size())) {
    std::printf(_("    ... and %zu more endpoints\n"),
                count - std::min<size_t>(8, p.endpoints.size()));
  }
  std::printf(_("    mode: %s; local network: %s; IPv6: %s; at boot: %s\n"),
              p.mode == Mode::kLockdown ? _("lockdown") : _("on"),
              p.allow_lan ? (p.allow_cgnat ? _("allowed (with 100.64.0.0/10)") : _("allowed"))
                          : _("blocked"),
              p.ipv6 == Ipv6Mode::kTunnel ? _("through the tunnel") : _("blocked"),
              at_boot ? _("blocked") : _("not blocked"));
}

// The first lines: whether anything is blocked, and how the table is kept.
void PrintState(const GuardStatus& status) {
  if (!status.engaged && status.table_in_kernel) {
    // Never "not blocked" while a table of ours may be blocking.
    std::printf(_("Kill switch: not engaged, but its table is in the kernel and may block "
                  "traffic: %s\n"),
                status.problem.c_str());
    std::printf(
        _("Engage the connection again, or remove the table with `nm-killswitch release "
          "--all`.\n"));
    return;
  }
  if (!status.engaged) {
    std::printf(_("Kill switch: not engaged. Traffic is not blocked.\n"));
    return;
  }
  std::printf(_("Kill switch: engaged. Nothing leaves outside the tunnel.\n"));
  const char* how = _("the guard repairs the table the moment another process changes it");
  if (status.protection == "owner") {
    how = _("the table is owned by the guard; no other process can remove it");
  } else if (status.protection == "twin") {
    how =
        _("the table is owned by the guard; no other process can remove it; a twin table "
          "keeps blocking if the guard stops");
  }
  std::printf(_("Protection: %s\n"), how);
}

// What the table stopped since it was last changed, by reason.
void PrintStopped(const GuardStatus& status) {
  if (!status.engaged || status.stopped.empty()) return;
  std::printf(_("Stopped since the last change:\n"));
  bool any = false;
  for (const auto& [why, n] : status.stopped) {
    if (n == 0) continue;
    any = true;
    std::printf("  %10llu  %s\n", static_cast<unsigned long long>(n),
                StopDescription(StopFromComment(why)));
  }
  if (!any) std::printf(_("  nothing yet\n"));
}

}  // namespace

int StatusCommand(int argc, char** argv) {
  gboolean json = FALSE, table = FALSE;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the status as JSON"), nullptr},
      {"table", 0, 0, G_OPTION_ARG_NONE, &table,
       N_("Also print the nftables table with its counters"), nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  int code = 0;
  if (!ParseVerbOptions(nullptr, _("Show what the kill switch blocks and what it stopped."),
                        entries, &argc, &argv, &code)) {
    return code;
  }

  auto guard = GuardClient::Connect();
  if (!guard.ok()) {
    PrintError(guard.message());
    return 1;
  }
  auto got = guard.value()->GetStatus();
  if (!got.ok()) {
    PrintError(got.message());
    return 1;
  }
  const GuardStatus& status = got.value();
  if (json) {
    GVariantPtr v = TakeVariant(GuardStatusToVariant(status, EndpointForm::kText));
    std::printf("%s\n", VariantToJson(v.get()).c_str());
    return 0;
  }

  PrintState(status);
  if (!status.connections.empty()) {
    std::printf(_("Engaged connections:\n"));
    for (const auto& [id, p] : status.connections) {
      PrintConnection(id, p, status.EndpointCount(id), status.BlockedAtBoot(id));
    }
  }
  if (!status.boot_connections.empty()) {
    std::printf(_("Blocked at boot for:"));
    for (const auto& b : status.boot_connections) std::printf(" %s", b.c_str());
    std::printf("\n");
  }
  PrintStopped(status);
  if (status.engaged && !status.kernel_matches) {
    std::printf(_("WARNING: %s\n"), status.problem.c_str());
  }
  for (const auto& w : status.warnings) std::printf(_("WARNING: %s\n"), w.c_str());
  if (table && !status.table.empty()) std::printf("\n%s", status.table.c_str());
  return 0;
}

}  // namespace nmks::cli
