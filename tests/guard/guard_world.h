// The real parts around nm-killswitch-guard, for end-to-end tests: a private
// system bus (a real dbus-daemon with the project's D-Bus policy), a real
// polkitd that sees only our actions and the test's rules, and the guard and
// nm-killswitch binaries of this very build running inside a World's client
// namespace. Each class starts its process in its constructor, waits until
// it answers, and stops only the PID it started in its destructor, so a
// failing test leaves no process behind.
#pragma once

#include <gio/gio.h>
#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "guard/policy_variant.h"
#include "rules/table_writer.h"
#include "tests/world/world.h"

namespace nmks::guardtest {

using namespace std::chrono_literals;

// Where this build put what the tests run.
std::string GuardBinary();  // BUILD/guard/nm-killswitch-guard
std::string FrontBinary();  // BUILD/guard/nm-killswitch-front
std::string CliBinary();    // BUILD/cli/nm-killswitch
std::string BuildPath(const std::string& relative);
std::string SourcePath(const std::string& relative);

// Why these tests cannot run here ("" if they can): not root, or a tool missing.
std::string MissingPrerequisite();

// Skips the test when it cannot run here, except under CI=true, where that
// is a failure: CI must not pass by skipping.
#define NMKS_REQUIRE_REAL_PARTS()                                                   \
  do {                                                                              \
    if (std::string why = ::nmks::guardtest::MissingPrerequisite(); !why.empty()) { \
      if (::nmks::guardtest::InCi()) FAIL() << why << " (CI=true: not skipping)";   \
      GTEST_SKIP() << why;                                                          \
    }                                                                               \
  } while (0)
bool InCi();

// A directory under /tmp that others may traverse (the bus socket lives
// here and uid 65534 must reach it), removed with all it holds.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& content, mode_t mode = 0644);
// Replaces every `token` in `text` by `value`.
void Substitute(std::string& text, const std::string& token, const std::string& value);

// Who runs a command.
struct Caller {
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home = "/root";
  static Caller Root() { return {}; }
  static Caller Nobody() { return {65534, 65534, "/nonexistent"}; }
};

struct Outcome {
  int exit_code = -1;  // -1: killed by a signal or by the timeout
  std::string out;
  std::string err;
  std::string all() const { return out + err; }
};

struct Spawn {
  std::vector<std::string> argv{};
  int netns_fd = -1;  // -1: the test's own network namespace
  Caller caller{};
  std::vector<std::string> env{};  // added to a small clean environment
  std::string input{};             // stdin
  std::chrono::milliseconds timeout = 60s;
};

// Runs a command to its end (or kills it at the timeout) and returns what it printed.
Outcome Execute(const Spawn& spawn);

// A clean environment for children: PATH, a UTF-8 C locale, HOME, the
// sanitizer options of the test run, plus `extra`.
std::vector<std::string> ChildEnvironment(const std::string& home,
                                          const std::vector<std::string>& extra);

// A child process this test started and owns. The destructor stops it
// (SIGTERM, then SIGKILL after a few seconds) if it is still running.
class OwnedProcess {
 public:
  OwnedProcess() = default;
  ~OwnedProcess() { Stop(); }
  OwnedProcess(const OwnedProcess&) = delete;
  OwnedProcess& operator=(const OwnedProcess&) = delete;

  // fork + exec; stdout and stderr go to `log` (appended). `before_exec`
  // runs in the child (async-signal-safe calls only) and returns false to abort.
  void Start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::string& log, int netns_fd, bool (*before_exec)(void*) = nullptr,
             void* arg = nullptr);
  pid_t pid() const { return pid_; }
  bool running();
  // The exit code, or 128+signal; -1 if it was not running.
  int Signal(int sig, std::chrono::milliseconds wait = 5s);
  int Stop() { return Signal(SIGTERM); }
  int Kill() { return Signal(SIGKILL); }

 private:
  pid_t pid_ = -1;
};

// A dbus-daemon of type system on a socket in `dir`, with the policy of a
// Debian system bus plus the project's data/io.github.nmkillswitch.Guard1.conf
// and polkit's bus policy.
class PrivateBus {
 public:
  explicit PrivateBus(const TempDir& dir);
  ~PrivateBus();
  PrivateBus(const PrivateBus&) = delete;
  PrivateBus& operator=(const PrivateBus&) = delete;

  const std::string& address() const { return address_; }
  std::string env() const { return "DBUS_SYSTEM_BUS_ADDRESS=" + address_; }
  // A root connection of the test's own; valid while the bus lives.
  GDBusConnection* connection() const { return connection_; }
  // A new connection (for calls that may make the bus drop it).
  GDBusConnection* Connect() const;
  // The PID of the process that owns `name`, if any.
  std::optional<pid_t> OwnerPid(const std::string& name) const;

 private:
  std::string address_;
  OwnedProcess daemon_;
  GDBusConnection* connection_ = nullptr;
};

// polkitd on `bus`, in a private mount namespace where /usr/share/polkit-1/actions
// holds only this build's polkit/io.github.nmkillswitch.policy and the rules
// directories hold only Debian's 50-default.rules and `rules` (JavaScript).
class Polkit {
 public:
  Polkit(const TempDir& dir, const PrivateBus& bus, const std::string& rules);
  ~Polkit();
  Polkit(const Polkit&) = delete;
  Polkit& operator=(const Polkit&) = delete;
  void Stop();
  std::string log() const { return ReadFile(log_); }

 private:
  std::string root_;
  std::string log_;
  OwnedProcess daemon_;
};

// A system user made for one test (useradd --system) and deleted at the end.
class TestUser {
 public:
  // Named `prefix` + a number; useradd --system, no home, no login shell.
  explicit TestUser(const std::string& prefix);
  ~TestUser();
  TestUser(const TestUser&) = delete;
  TestUser& operator=(const TestUser&) = delete;
  const std::string& name() const { return name_; }
  Caller caller() const { return caller_; }

 private:
  std::string name_;
  Caller caller_;
  bool created_ = false;
};

struct GuardFiles {
  std::string state_file;
  std::string boot_file;
};

// What systemd does for the guard's unit (FileDescriptorStoreMax=): keeps
// the descriptors the guard sends with FDSTORE=1 to the socket named by
// NOTIFY_SOCKET, and passes them to the next guard as LISTEN_FDS. A
// stand-in for the service manager at that one boundary; tests/vm proves
// the real one.
class FdStore {
 public:
  explicit FdStore(const TempDir& dir);
  ~FdStore();
  FdStore(const FdStore&) = delete;
  FdStore& operator=(const FdStore&) = delete;
  std::string env() const { return "NOTIFY_SOCKET=" + path_; }
  // Takes the messages sent so far; the descriptor kept, or -1.
  int Receive();
  int kept() const { return kept_; }

 private:
  int socket_ = -1;
  std::string path_;
  int kept_ = -1;
};

// nm-killswitch-guard of this build in `ns`, serving on `bus`. Ready once
// its own PID owns io.github.nmkillswitch.Guard1.
class GuardProcess {
 public:
  // With `store`, the guard gets NOTIFY_SOCKET and what the store keeps.
  GuardProcess(const world::Netns& ns, const PrivateBus& bus, GuardFiles files,
               std::string protection, std::string log, FdStore* store = nullptr);
  ~GuardProcess() = default;
  GuardProcess(const GuardProcess&) = delete;
  GuardProcess& operator=(const GuardProcess&) = delete;

  pid_t pid() const { return process_.pid(); }
  int Kill() { return process_.Kill(); }
  int Stop() { return process_.Stop(); }
  std::string log() const { return ReadFile(log_); }

 private:
  OwnedProcess process_;
  std::string log_;
};

// nm-killswitch-front of this build on `bus`, as D-Bus activation starts it
// for callers that are not root. Ready once its own PID owns
// io.github.nmkillswitch.Front1.
class FrontProcess {
 public:
  FrontProcess(const PrivateBus& bus, std::string log, std::vector<std::string> args = {});
  FrontProcess(const FrontProcess&) = delete;
  FrontProcess& operator=(const FrontProcess&) = delete;
  pid_t pid() const { return process_.pid(); }
  bool running() { return process_.running(); }
  int Kill() { return process_.Kill(); }
  std::string log() const { return ReadFile(log_); }

 private:
  OwnedProcess process_;
  std::string log_;
};

// A D-Bus call to the guard: the reply, or the error's D-Bus name and message.
struct Reply {
  GVariantPtr value;  // null on error
  std::string error_name;
  std::string error;
  bool ok() const { return value != nullptr; }
};
Reply CallGuard(GDBusConnection* bus, const char* method, GVariant* params /* floating */,
                std::chrono::milliseconds timeout = 30s);

// Two table states are the same: both absent, or the same flags and the
// same rules and set elements (counter values aside).
Status SameTable(const TableState& before, const TableState& after);

// The end-to-end fixture: a World (client, router, vpn), a temp dir, a
// private bus, and at most one guard in the client namespace at a time.
class GuardTest : public testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  world::World& world() { return *world_; }
  TempDir& dir() { return *dir_; }
  PrivateBus& bus() { return *bus_; }
  GuardProcess& guard() { return *guard_; }
  GuardFiles files() const { return {(*dir_) / "state", (*dir_) / "boot.nft"}; }
  std::string guard_log() const { return (*dir_) / "guard.log"; }

  // Starts (or restarts) the guard with the test's state and boot files;
  // with `store`, under that stand-in for systemd's descriptor store.
  void StartGuard(const std::string& protection = "auto", FdStore* store = nullptr);
  // (Re)starts the front that serves callers who are not root (SetUp starts one).
  void StartFront(const std::vector<std::string>& args = {});
  std::string front_log() const { return (*dir_) / "front.log"; }
  // Runs nft with `args` in the client namespace (another root program).
  Outcome Nft(const std::vector<std::string>& args);
  // Runs nm-killswitch of this build in the client namespace on the private bus.
  Outcome Cli(const std::vector<std::string>& args, const Caller& caller = Caller::Root());
  Outcome CliIn(const world::Netns& ns, const std::vector<std::string>& args,
                const Caller& caller = Caller::Root());
  // The client's table now; fails the test if it cannot be read.
  TableState Table();
  TableState TableIn(const world::Netns& ns);
  // How many of 2 UDP datagrams from an unprivileged program in the client
  // to 203.0.113.99:port arrive at the router (outside the tunnel).
  uint64_t Leaks(uint16_t port);
  // The same through the tunnel: to 203.0.113.98 (routed via tun0), counted at the vpn.
  uint64_t Tunneled(uint16_t port);
  // The guard's Status dictionary (as root, over D-Bus).
  Engagements EngagedNow();

  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<world::World> world_;
  std::unique_ptr<PrivateBus> bus_;
  std::unique_ptr<Polkit> polkit_;
  std::unique_ptr<GuardProcess> guard_;
  std::unique_ptr<FrontProcess> front_;
};

// UDP datagrams from an unprivileged program in `ns` to to:port, one a
// millisecond, until Finish(): traffic that keeps going while the test
// changes things.
class PacedUdp {
 public:
  PacedUdp(const world::Netns& ns, const std::string& to, uint16_t port);
  struct Totals {
    uint64_t attempts = 0;
    uint64_t taken = 0;  // accepted by the kernel
  };
  Totals Finish();

 private:
  world::Background child_;
};

inline constexpr char kOutside[] = "203.0.113.99";   // routed around the tunnel
inline constexpr char kInTunnel[] = "203.0.113.98";  // routed through tun0

}  // namespace nmks::guardtest
