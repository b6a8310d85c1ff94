// nm-killswitch-guard: the D-Bus system service that owns the kill-switch
// table; with --load-boot, the boot-time loader of the boot ruleset.
#include <gio/gio.h>

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "base/i18n.h"
#include "base/options.h"
#include "base/status.h"
#include "guard/boot_file.h"
#include "guard/bus_name.h"
#include "guard/bus_service.h"
#include "guard/fd_store.h"
#include "guard/files.h"
#include "guard/guard.h"
#include "rules/ruleset.h"
#include "rules/table_writer.h"

namespace nmks {
namespace {

struct Options {
  gchar* protection = nullptr;
  gchar* state_file = nullptr;
  gchar* boot_file = nullptr;
  gchar* load_boot = nullptr;
  gboolean version = FALSE;
  ~Options() {
    g_free(protection);
    g_free(state_file);
    g_free(boot_file);
    g_free(load_boot);
  }
};

Status SaveEngagedAtBoot(const std::string& state_file, const Engagements& engaged) {
  std::string dir = state_file.substr(0, state_file.rfind('/'));
  if (!dir.empty() && mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Status::Error(Format("%s: %s", dir.c_str(), std::strerror(errno)));
  }
  return WriteFileAtomically(state_file, EngagementsToBytes(engaged), 0600);
}

// Loads the boot ruleset into the kernel and exits. Fails closed: when the
// file cannot be used, everything but loopback and link housekeeping is
// blocked, and the error says so.
int LoadBoot(const char* path, const char* state_file) {
  auto keeps = KernelKeepsOwnedTables();
  Ownership ownership = keeps.ok() && keeps.value() ? Ownership::kOwned : Ownership::kUnowned;
  auto writer = TableWriter::Open(ownership);
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.message().c_str());
    return 1;
  }
  auto content = ReadFileLimited(path, kMaxPolicyFileBytes);
  Result<Engagements> engaged =
      content.ok() ? ParseBootFile(content.value()) : Result<Engagements>(content.status());
  if (engaged.ok()) {
    Status s = writer.value()->Install(BuildRuleset(Merge(engaged.value())));
    if (s.ok()) {
      std::fprintf(stderr, _("nm-killswitch: boot ruleset loaded from %s: %zu connection(s)\n"),
                   path, engaged.value().size());
      // Saved as what is engaged, so the guard engages it even if another
      // program flushed the ruleset before the guard started.
      if (state_file != nullptr) {
        Status saved = SaveEngagedAtBoot(state_file, engaged.value());
        if (!saved.ok()) {
          std::fprintf(stderr,
                       _("nm-killswitch: cannot save the boot connections as engaged (%s)\n"),
                       saved.message().c_str());
        }
      }
      return 0;
    }
    std::fprintf(stderr, _("nm-killswitch: cannot load the boot ruleset (%s)\n"),
                 s.message().c_str());
  } else {
    std::fprintf(stderr, _("nm-killswitch: the boot ruleset %s cannot be used (%s)\n"), path,
                 engaged.message().c_str());
  }
  Status s = writer.value()->Install(BuildBlockAllRuleset());
  if (s.ok()) {
    std::fprintf(stderr, _("nm-killswitch: blocking all traffic instead; a VPN connection or "
                           "`nm-killswitch release --all` (as root) lets traffic out again\n"));
  } else {
    std::fprintf(stderr, _("nm-killswitch: could not block traffic either: %s\n"),
                 s.message().c_str());
  }
  return 1;
}

// --protection NAME; false (after saying so) if it names none.
bool ParseProtection(const char* name, Protection* out) {
  const std::string p = name;
  if (p == "auto") {
    *out = Protection::kAuto;
  } else if (p == "owner") {
    *out = Protection::kOwner;
  } else if (p == "twin") {
    *out = Protection::kTwin;
  } else if (p == "watch") {
    *out = Protection::kWatch;
  } else {
    std::fprintf(stderr, _("--protection must be auto, owner, twin or watch\n"));
    return false;
  }
  return true;
}

// Logs how the started guard protects the table, and hands the owning
// socket to the service manager: it keeps the table owned (nobody can flush
// or delete it) while no guard runs.
void ReportAndKeepSocket(const Guard& guard) {
  for (const auto& w : guard.warnings()) g_warning("%s", w.c_str());
  g_message("protection: %s; %zu connection(s) engaged", ProtectionName(guard.protection()),
            guard.engaged().size());
  if (std::string why; KeepSocket(guard.owner_socket_fd(), &why)) {
    g_message(guard.took_over_socket() ? "took over the table's socket from the service manager"
                                       : "the service manager keeps the table's socket");
  } else if (guard.protection() != Protection::kWatch) {
    g_warning(_("the service manager does not keep the table's socket (%s): while no guard "
                "runs, another process can delete the table"),
              why.c_str());
  }
}

// Serves `guard` on the system bus until a signal or the loss of the name.
int Serve(Guard& guard) {
  GError* error = nullptr;
  GDBusConnection* bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, nullptr, &error);
  if (bus == nullptr) {
    g_critical(_("cannot connect to the system bus: %s (the table stays as it is)"),
               error ? error->message : "");
    g_clear_error(&error);
    return 1;
  }
  g_dbus_connection_set_exit_on_close(bus, FALSE);
  BusService service(guard, bus);
  if (Status s = service.Export(); !s.ok()) {
    g_critical("%s", s.message().c_str());
    g_object_unref(bus);
    return 1;
  }
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  int exit_code = 0;
  {
    NameOwner name(bus, kGuardBusName, loop,
                   _("cannot own the bus name %s (is another guard running?); the table stays as "
                     "it is"));
    QuitOnSignals(loop, "stopping; the kill-switch table stays as it is");
    g_main_loop_run(loop);
    exit_code = name.exit_code();
  }
  g_main_loop_unref(loop);
  g_object_unref(bus);
  return exit_code;
}

int Run(const Options& o) {
  GuardOptions options;
  if (o.state_file) options.state_file = o.state_file;
  if (o.boot_file) options.boot_file = o.boot_file;
  if (o.protection && !ParseProtection(o.protection, &options.protection)) return 2;
  // Take the table over first: protecting it does not wait for the bus.
  options.kept_socket = TakeKeptSocket();
  auto guard = Guard::Start(options);
  if (!guard.ok()) {
    g_critical("%s", guard.message().c_str());
    return 1;
  }
  ReportAndKeepSocket(*guard.value());
  return Serve(*guard.value());
}

}  // namespace
}  // namespace nmks

int main(int argc, char** argv) {
  nmks::InitTranslations();
  nmks::Options o;
  // The defaults are not part of the messages, so that they are extracted
  // and translated whole.
  const std::string state_help =
      nmks::Format(_("Where to save what is engaged (default %s)"), NMKS_RUN_DIR "/state");
  const std::string boot_help =
      nmks::Format(_("The boot ruleset file (default %s)"), NMKS_STATE_DIR "/boot.nft");
  GOptionEntry entries[] = {
      {"protection", 0, 0, G_OPTION_ARG_STRING, &o.protection,
       N_("How to keep other processes off the table: auto, owner, twin or watch"), "MODE"},
      {"state-file", 0, 0, G_OPTION_ARG_FILENAME, &o.state_file, state_help.c_str(), "FILE"},
      {"boot-file", 0, 0, G_OPTION_ARG_FILENAME, &o.boot_file, boot_help.c_str(), "FILE"},
      {"load-boot", 0, 0, G_OPTION_ARG_FILENAME, &o.load_boot,
       N_("Load this boot ruleset into the kernel and exit"), "FILE"},
      {"version", 0, 0, G_OPTION_ARG_NONE, &o.version, N_("Print the version and exit"), nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};
  if (nmks::Status s = nmks::ParseOptions(
          nullptr,
          _("Owns the VPN kill-switch table (nftables) and serves it on the system bus as "
            "io.github.nmkillswitch.Guard1."),
          entries, &argc, &argv);
      !s.ok()) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 2;
  }
  if (o.version) {
    std::printf("nm-killswitch-guard %s\n", NMKS_VERSION);
    return 0;
  }
  if (o.load_boot) return nmks::LoadBoot(o.load_boot, o.state_file);
  return nmks::Run(o);
}
