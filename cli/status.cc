#include <cstdio>
#include <string>
#include <utility>

#include "cli/common.h"
#include "cli/json.h"
#include "cli/verbs.h"
#include "guard/client.h"
#include "guard/policy_variant.h"
#include "rules/i18n.h"
#include "rules/ruleset.h"

namespace nmks::cli {
namespace {

std::string Lookup(GVariant* dict, const char* key) {
  g_autofree gchar* s = nullptr;
  return g_variant_lookup(dict, key, "s", &s) ? s : "";
}

void PrintConnection(const std::string& id, const Policy& p, bool at_boot) {
  std::printf("  %s\n", id.c_str());
  std::string tunnels;
  for (const auto& t : p.tunnels) tunnels += (tunnels.empty() ? "" : ", ") + t;
  std::printf(_("    tunnels:   %s\n"), tunnels.empty() ? _("(none)") : tunnels.c_str());
  if (p.endpoints.empty()) std::printf(_("    endpoints: (none)\n"));
  for (size_t i = 0; i < p.endpoints.size(); ++i) {
    const Endpoint& e = p.endpoints[i];
    if (i == 8) {
      std::printf(_("    ... and %zu more endpoints\n"), p.endpoints.size() - i);
      break;
    }
    if (e.mark) {
      std::printf(_("    endpoint:  %s (only from the VPN itself, fwmark 0x%x)\n"),
                  e.ToString().c_str(), *e.mark);
    } else {
      std::printf(_("    endpoint:  %s\n"), e.ToString().c_str());
    }
  }
  std::printf(_("    mode: %s; local network: %s; IPv6: %s; at boot: %s\n"),
              p.mode == Mode::kLockdown ? _("lockdown") : _("on"),
              p.allow_lan ? (p.allow_cgnat ? _("allowed (with 100.64.0.0/10)") : _("allowed"))
                          : _("blocked"),
              p.ipv6 == Ipv6Mode::kTunnel ? _("through the tunnel") : _("blocked"),
              at_boot ? _("blocked") : _("not blocked"));
}

// The status with each connection's endpoints in the text form
// (address, protocol, port, mark) instead of the packed bytes of D-Bus.
VariantPtr ForPeople(GVariant* status) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  GVariantIter it;
  g_variant_iter_init(&it, status);
  const gchar* key = nullptr;
  GVariant* value = nullptr;
  while (g_variant_iter_next(&it, "{&sv}", &key, &value)) {
    VariantPtr owned(value);
    Result<Engagements> engaged = Status::Error("");
    if (std::string(key) == "connections") engaged = EngagementsFromVariant(value);
    g_variant_builder_add(
        &b, "{sv}", key,
        engaged.ok() ? EngagementsToVariant(engaged.value(), EndpointForm::kText) : value);
  }
  return TakeVariant(g_variant_builder_end(&b));
}

}  // namespace

int StatusCommand(int argc, char** argv) {
  gboolean json = FALSE, table = FALSE;
  GOptionEntry entries[] = {
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the status as JSON"), nullptr},
      {"table", 0, 0, G_OPTION_ARG_NONE, &table,
       N_("Also print the nftables table with its counters"), nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  GOptionContext* ctx = g_option_context_new(nullptr);
  g_option_context_set_summary(ctx, _("Show what the kill switch blocks and what it stopped."));
  g_option_context_add_main_entries(ctx, entries, GETTEXT_PACKAGE);
  int code = 0;
  bool parsed = ParseOptions(ctx, &argc, &argv, &code);
  g_option_context_free(ctx);
  if (!parsed) return code;

  auto guard = GuardClient::Connect();
  if (!guard.ok()) {
    PrintError(guard.message());
    return 1;
  }
  auto raw_status = guard.value()->GetStatus();
  if (!raw_status.ok()) {
    PrintError(raw_status.message());
    return 1;
  }
  VariantPtr status = std::move(raw_status).value();
  if (json) {
    std::printf("%s\n", VariantToJson(ForPeople(status.get()).get()).c_str());
    return 0;
  }
  gboolean engaged = FALSE, matches = FALSE, in_kernel = FALSE;
  g_variant_lookup(status.get(), "engaged", "b", &engaged);
  g_variant_lookup(status.get(), "table-in-kernel", "b", &in_kernel);
  g_variant_lookup(status.get(), "kernel-matches", "b", &matches);
  std::string protection = Lookup(status.get(), "protection");
  std::string problem = Lookup(status.get(), "problem");

  if (!engaged && in_kernel) {
    // Never "not blocked" while a table of ours may be blocking.
    std::printf(_("Kill switch: not engaged, but its table is in the kernel and may block "
                  "traffic: %s\n"),
                problem.c_str());
    std::printf(
        _("Engage the connection again, or remove the table with `nm-killswitch release "
          "--all`.\n"));
  } else if (!engaged) {
    std::printf(_("Kill switch: not engaged. Traffic is not blocked.\n"));
  } else {
    std::printf(_("Kill switch: engaged. Nothing leaves outside the tunnel.\n"));
    const char* how = _("the guard repairs the table the moment another process changes it");
    if (protection == "owner") {
      how = _("the table is owned by the guard; no other process can remove it");
    } else if (protection == "twin") {
      how =
          _("the table is owned by the guard; no other process can remove it; a twin table "
            "keeps blocking if the guard stops");
    }
    std::printf(_("Protection: %s\n"), how);
  }
  VariantPtr connections(
      g_variant_lookup_value(status.get(), "connections", G_VARIANT_TYPE("a{sa{sv}}")));
  g_auto(GStrv) boot = nullptr;
  g_variant_lookup(status.get(), "boot-connections", "^as", &boot);
  if (connections) {
    auto engaged_list = EngagementsFromVariant(connections.get());
    if (engaged_list.ok() && !engaged_list.value().empty()) {
      std::printf(_("Engaged connections:\n"));
      for (const auto& [id, p] : engaged_list.value()) {
        bool at_boot = false;
        for (gchar** b = boot; b && *b; ++b) at_boot = at_boot || id == *b;
        PrintConnection(id, p, at_boot);
      }
    }
  }
  if (boot && *boot) {
    std::printf(_("Blocked at boot for:"));
    for (gchar** b = boot; *b; ++b) std::printf(" %s", *b);
    std::printf("\n");
  }
  VariantPtr stopped(g_variant_lookup_value(status.get(), "stopped", G_VARIANT_TYPE("a{st}")));
  if (engaged && stopped) {
    std::printf(_("Stopped since the last change:\n"));
    GVariantIter it;
    g_variant_iter_init(&it, stopped.get());
    const gchar* why;
    guint64 n;
    bool any = false;
    while (g_variant_iter_next(&it, "{&st}", &why, &n)) {
      if (n == 0) continue;
      any = true;
      std::printf("  %10llu  %s\n", static_cast<unsigned long long>(n),
                  StopDescription(StopFromComment(why)));
    }
    if (!any) std::printf(_("  nothing yet\n"));
  }
  if (engaged && !matches) std::printf(_("WARNING: %s\n"), problem.c_str());
  g_auto(GStrv) warnings = nullptr;
  if (g_variant_lookup(status.get(), "warnings", "^as", &warnings)) {
    for (gchar** w = warnings; w && *w; ++w) std::printf(_("WARNING: %s\n"), *w);
  }
  if (table) {
    std::string text = Lookup(status.get(), "table");
    if (!text.empty()) std::printf("\n%s", text.c_str());
  }
  return 0;
}

}  // namespace nmks::cli
