// `nm-killswitch teardown`: what removing the package does before its files
// go (debian/prerm). Once the package is gone nobody can manage the
// kill-switch table, so an engaged kill switch would lock the machine out
// for good: release everything, turn blocking at boot off, and delete any
// kill-switch table still in the kernel (also the twin table a guard on a
// kernel without PERSIST leaves when it dies), saying each step loudly.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/i18n.h"
#include "cli/common.h"
#include "cli/verbs.h"
#include "guard/client.h"
#include "rules/ruleset.h"
#include "rules/table_writer.h"

namespace nmks::cli {
namespace {

// "\"a\", \"b\"", or "(no name)".
std::string Quoted(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "\"" : ", \"") + n + "\"";
  return out.empty() ? std::string(_("(no name)")) : out;
}

// Whether a kill-switch table (or its twin) is in the kernel; true when it
// cannot be read, so the caller tries to delete it.
bool TablesInKernel() {
  for (const char* name : {kTableName, kTwinTableName, kHandoverTableName}) {
    auto table = ReadTable(name);
    if (!table.ok() || table.value().exists) return true;
  }
  return false;
}

// Deletes the kill-switch table and its twin directly, without the guard.
bool DeleteTables() {
  auto writer = TableWriter::Open(Ownership::kUnowned);
  Status s = writer.ok() ? writer.value()->Remove() : writer.status();
  if (!s.ok()) {
    PrintError(Format(_("could not delete the kill-switch table (%s): traffic is still blocked. "
                        "Stop nm-killswitch-guard, then run: nft delete table inet %s"),
                      s.message().c_str(), kTableName));
    return false;
  }
  std::printf(_("Deleted the kill-switch table: traffic is no longer blocked.\n"));
  return true;
}

// Releases what the guard has engaged and turns blocking at boot off through
// it. False when something is left that the caller must delete itself.
bool ReleaseThroughGuard(GuardClient& guard, const GuardStatus& status) {
  if (!status.engaged) return true;
  std::vector<std::string> engaged;
  for (const auto& [name, policy] : status.connections) engaged.push_back(name);
  std::printf(_("The VPN kill switch is engaged for: %s.\n"), Quoted(engaged).c_str());
  std::printf(_("It is being released now: from here on traffic can leave this machine outside "
                "the VPN.\n"));
  if (!status.boot_connections.empty()) {
    if (Status s = guard.SetBlockAtBoot("", false); !s.ok()) PrintError(s.message());
  }
  if (Status s = guard.ReleaseAll(); !s.ok()) {
    PrintError(Format(_("the guard could not release it (%s); deleting the kill-switch table "
                        "instead"),
                      s.message().c_str()));
    return false;
  }
  std::printf(_("Released: %s.\n"), Quoted(engaged).c_str());
  return true;
}

// Removes the boot ruleset file if the guard left it (or could not be asked).
bool RemoveBootFile(const std::string& path, const std::vector<std::string>& at_boot) {
  if (access(path.c_str(), F_OK) != 0 && at_boot.empty()) return true;
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    PrintError(Format(_("could not remove %s (%s): the next boot may still block traffic"),
                      path.c_str(), std::strerror(errno)));
    return false;
  }
  if (at_boot.empty()) {
    std::printf(_("Blocking at boot is turned off: removed %s.\n"), path.c_str());
  } else {
    std::printf(_("Blocking at boot is turned off (it was on for %s): removed %s.\n"),
                Quoted(at_boot).c_str(), path.c_str());
  }
  return true;
}

}  // namespace

int TeardownCommand(int argc, char** argv) {
  g_autofree gchar* boot_file = nullptr;
  gint timeout_s = 60;
  GOptionEntry entries[] = {
      {"boot-file", 0, 0, G_OPTION_ARG_FILENAME, &boot_file,
       N_("The boot ruleset file to remove (default: the one the guard writes)"), N_("FILE")},
      {"timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
       N_("Seconds to wait for the guard before deleting the table directly (default: 60)"),
       N_("SECONDS")},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  int code = 0;
  if (!ParseVerbOptions(nullptr,
                        _("Release every connection, turn blocking at boot off and delete any "
                          "kill-switch table left, as removing the package does. Traffic is "
                          "no longer blocked afterwards. For administrators."),
                        entries, &argc, &argv, &code)) {
    return code;
  }
  if (argc > 1 || timeout_s <= 0) {
    PrintError(_("teardown takes no arguments but --boot-file FILE and --timeout SECONDS"));
    return 2;
  }

  std::vector<std::string> at_boot;
  GuardClient::Options options;
  options.timeout_ms = timeout_s * 1000;
  auto guard = GuardClient::Connect(options);
  auto status = guard.ok() ? guard.value()->GetStatus() : Result<GuardStatus>(guard.status());
  bool released = false;
  if (status.ok()) {
    at_boot = status.value().boot_connections;
    released = ReleaseThroughGuard(*guard.value(), status.value());
  } else {
    PrintError(Format(_("the kill-switch guard cannot be reached (%s)"),
                      status.message().c_str()));
  }
  bool done = true;
  if (TablesInKernel()) {
    if (released) {
      std::printf(_("A kill-switch table is in place with nothing engaged; it is deleted.\n"));
    } else if (!status.ok()) {
      std::printf(_("The kill-switch table is in place and nothing can manage it any more; it "
                    "is deleted.\n"));
    }
    done = DeleteTables();
  }
  done = RemoveBootFile(boot_file ? boot_file : NMKS_STATE_DIR "/boot.nft", at_boot) && done;
  return done ? 0 : 1;
}

}  // namespace nmks::cli
