#include "tests/guard/guard_world.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "guard/names.h"
#include "guard/bus_service.h"
#include "tests/guard/signal_cleanup.h"

namespace nmks::guardtest {
namespace {

using Clock = std::chrono::steady_clock;

// argv or envp as the exec functions want them; the strings must outlive it.
std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// In a forked child: join the namespace and become the caller. Only
// async-signal-safe calls: the test process has threads (GDBus).
bool EnterAs(int netns_fd, const Caller& caller) {
  SignalCleanup::ForgetInChild();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0) return false;
  if (caller.uid != 0 || caller.gid != 0) {
    if (setgroups(0, nullptr) != 0 || setresgid(caller.gid, caller.gid, caller.gid) != 0 ||
        setresuid(caller.uid, caller.uid, caller.uid) != 0) {
      return false;
    }
  }
  return chdir("/") == 0;
}

// waitpid that retries on EINTR; the exit code, 128+signal, or -1.
int Reap(pid_t pid, int options, bool* done) {
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, options);
  } while (r < 0 && errno == EINTR);
  *done = r == pid;
  if (!*done) return -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool OnPath(const std::string& tool) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/lib/polkit-1"}) {
    if (access((std::string(dir) + "/" + tool).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::string DBusErrorName(GError* error) {
  gchar* name = g_dbus_error_get_remote_error(error);
  std::string out = name ? name : "";
  g_free(name);
  return out;
}

}  // namespace

std::string BuildPath(const std::string& relative) {
  return std::string(NMKS_BUILD_DIR) + "/" + relative;
}
std::string SourcePath(const std::string& relative) {
  return std::string(NMKS_SOURCE_DIR) + "/" + relative;
}
std::string GuardBinary() { return BuildPath("guard/nm-killswitch-guard"); }
std::string CliBinary() { return BuildPath("cli/nm-killswitch"); }
std::string FrontBinary() { return BuildPath("guard/nm-killswitch-front"); }

bool InCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

std::string MissingPrerequisite() {
  if (geteuid() != 0) return "the guard tests need root (network namespaces, nftables, polkitd)";
  for (const char* tool : {"ip", "nft", "dbus-daemon", "polkitd", "useradd", "userdel"}) {
    if (!OnPath(tool)) return std::string("the guard tests need ") + tool;
  }
  for (const std::string& built : {GuardBinary(), CliBinary()}) {
    if (access(built.c_str(), X_OK) != 0) return built + " is not built";
  }
  return "";
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/nmks-guardtest.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
  chmod(path_.c_str(), 0755);  // the bus socket must be reachable by uid 65534
  SignalCleanup::AddDir(path_);
}

TempDir::~TempDir() {
  SignalCleanup::RemoveDir(path_);
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void Substitute(std::string& text, const std::string& token, const std::string& value) {
  for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at)) {
    text.replace(at, token.size(), value);
    at += value.size();
  }
}

void WriteFile(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out || chmod(path.c_str(), mode) != 0) throw std::runtime_error("cannot write " + path);
}

std::vector<std::string> ChildEnvironment(const std::string& home,
                                          const std::vector<std::string>& extra) {
  std::vector<std::string> env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C.UTF-8",
                                  "HOME=" + home};
  for (const char* passed : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
    if (const char* v = std::getenv(passed)) env.push_back(std::string(passed) + "=" + v);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

Outcome Execute(const Spawn& spawn) {
  // A command that exits before reading its input must not kill the test.
  static const bool ignore_sigpipe = signal(SIGPIPE, SIG_IGN) != SIG_ERR;
  (void)ignore_sigpipe;
  std::vector<std::string> env = ChildEnvironment(spawn.caller.home, spawn.env);
  std::vector<char*> argv = CStrings(spawn.argv);
  std::vector<char*> envp = CStrings(env);
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  pid_t pid = fork();
  if (pid == 0) {
    if (!EnterAs(spawn.netns_fd, spawn.caller)) _exit(126);
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (pid < 0) throw std::runtime_error("fork failed");
  // Small inputs only: they fit in the pipe.
  ssize_t unused = write(in[1], spawn.input.data(), spawn.input.size());
  (void)unused;
  close(in[1]);

  Outcome result;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  const auto deadline = Clock::now() + spawn.timeout;
  bool timed_out = false;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      kill(pid, SIGKILL);  // our own child
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[8192];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  bool done = false;
  result.exit_code = Reap(pid, 0, &done);
  if (timed_out) {
    result.exit_code = -1;
    result.err += "\n[killed after " + std::to_string(spawn.timeout.count()) + " ms]";
  }
  return result;
}

void OwnedProcess::Start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         const std::string& log, int netns_fd, bool (*before_exec)(void*),
                         void* arg) {
  if (running()) throw std::runtime_error("process already running");
  std::vector<char*> args = CStrings(argv);
  std::vector<char*> envp = CStrings(env);
  int log_fd = open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) throw std::runtime_error("cannot open " + log);
  pid_t pid = fork();
  if (pid == 0) {
    if (!EnterAs(netns_fd, Caller::Root())) _exit(126);
    if (before_exec != nullptr && !before_exec(arg)) _exit(125);
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  if (pid < 0) throw std::runtime_error("fork failed");
  pid_ = pid;
  SignalCleanup::AddPid(pid);
}

bool OwnedProcess::running() {
  if (pid_ <= 0) return false;
  bool done = false;
  Reap(pid_, WNOHANG, &done);
  if (done) {
    SignalCleanup::RemovePid(pid_);
    pid_ = -1;
  }
  return !done;
}

int OwnedProcess::Signal(int sig, std::chrono::milliseconds wait) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);  // only the PID this object started
  const auto deadline = Clock::now() + wait;
  bool done = false;
  int code = -1;
  while (!done) {
    code = Reap(pid_, WNOHANG, &done);
    if (done) break;
    if (Clock::now() > deadline) {
      kill(pid_, SIGKILL);
      code = Reap(pid_, 0, &done);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  SignalCleanup::RemovePid(pid_);
  pid_ = -1;
  return code;
}

// ---------------------------------------------------------------- bus

namespace {

// The policy of Debian's /usr/share/dbus-1/system.conf: nobody may own a
// name or call a method unless a service's own policy file allows it; ours
// and polkit's are included.
constexpr char kBusConfig[] =
    R"(<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=@SOCKET@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>@GUARD_POLICY@</include>
  <include ignore_missing="yes">/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
</busconfig>
)";

}  // namespace

PrivateBus::PrivateBus(const TempDir& dir) {
  const std::string socket = dir / "system_bus_socket";
  address_ = "unix:path=" + socket;
  std::string config = kBusConfig;
  Substitute(config, "@SOCKET@", socket);
  Substitute(config, "@GUARD_POLICY@", SourcePath("data/io.github.nmkillswitch.Guard1.conf"));
  WriteFile(dir / "bus.conf", config);
  daemon_.Start(
      {"/usr/bin/dbus-daemon", "--nofork", "--nopidfile", "--config-file=" + (dir / "bus.conf")},
      ChildEnvironment("/root", {}), dir / "dbus-daemon.log", -1);
  const auto deadline = Clock::now() + 10s;
  while (connection_ == nullptr) {
    if (access(socket.c_str(), F_OK) == 0) connection_ = Connect();
    if (connection_ != nullptr) break;
    if (!daemon_.running() || Clock::now() > deadline) {
      throw std::runtime_error("dbus-daemon did not start: " + ReadFile(dir / "dbus-daemon.log"));
    }
    std::this_thread::sleep_for(10ms);
  }
}

PrivateBus::~PrivateBus() {
  if (connection_ != nullptr) {
    g_dbus_connection_close_sync(connection_, nullptr, nullptr);
    g_object_unref(connection_);
  }
  daemon_.Stop();
}

GDBusConnection* PrivateBus::Connect() const {
  GError* error = nullptr;
  GDBusConnection* c = g_dbus_connection_new_for_address_sync(
      address_.c_str(),
      static_cast<GDBusConnectionFlags>(G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                        G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION),
      nullptr, nullptr, &error);
  g_clear_error(&error);
  if (c != nullptr) g_dbus_connection_set_exit_on_close(c, FALSE);
  return c;
}

std::optional<pid_t> PrivateBus::OwnerPid(const std::string& name) const {
  GVariant* owner = g_dbus_connection_call_sync(
      connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetNameOwner", g_variant_new("(s)", name.c_str()), G_VARIANT_TYPE("(s)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
  if (owner == nullptr) return std::nullopt;
  const gchar* unique = nullptr;
  g_variant_get(owner, "(&s)", &unique);
  GVariant* pid = g_dbus_connection_call_sync(
      connection_, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetConnectionUnixProcessID", g_variant_new("(s)", unique), G_VARIANT_TYPE("(u)"),
      G_DBUS_CALL_FLAGS_NONE, 5000, nullptr, nullptr);
  g_variant_unref(owner);
  if (pid == nullptr) return std::nullopt;
  guint32 value = 0;
  g_variant_get(pid, "(u)", &value);
  g_variant_unref(pid);
  return static_cast<pid_t>(value);
}

namespace {

// Waits until `process` owns `name` on `bus`; throws with `log` if it
// exits or takes too long.
void AwaitName(const PrivateBus& bus, OwnedProcess& process, const std::string& name,
               const std::string& log) {
  const auto deadline = Clock::now() + 30s;  // generous: sanitizer builds start slowly
  for (;;) {
    std::optional<pid_t> owner = bus.OwnerPid(name);
    if (owner && *owner == process.pid()) return;
    if (!process.running()) {
      throw std::runtime_error(name + " exited before it was ready:\n" + ReadFile(log));
    }
    if (Clock::now() > deadline) {
      throw std::runtime_error(name + " was not ready after 30 s:\n" + ReadFile(log));
    }
    std::this_thread::sleep_for(10ms);
  }
}

// What polkitd's child does before exec: a private mount namespace in
// which our directories cover the host's polkit actions and rules.
struct PolkitMounts {
  std::string actions, rules_usr, rules_etc;
};

bool MountPolkitDirs(void* arg) {
  const auto* m = static_cast<const PolkitMounts*>(arg);
  return unshare(CLONE_NEWNS) == 0 &&
         mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
         mount(m->actions.c_str(), "/usr/share/polkit-1/actions", nullptr, MS_BIND, nullptr) == 0 &&
         mount(m->rules_usr.c_str(), "/usr/share/polkit-1/rules.d", nullptr, MS_BIND, nullptr) ==
             0 &&
         mount(m->rules_etc.c_str(), "/etc/polkit-1/rules.d", nullptr, MS_BIND, nullptr) == 0;
}

}  // namespace

// ---------------------------------------------------------------- polkit

Polkit::Polkit(const TempDir& dir, const PrivateBus& bus, const std::string& rules) {
  root_ = dir / "polkit";
  log_ = dir / "polkitd.log";
  PolkitMounts m{root_ + "/actions", root_ + "/rules-usr", root_ + "/rules-etc"};
  // polkitd reads these after it dropped to user polkitd: 0755 and 0644.
  for (const std::string& d : {root_, m.actions, m.rules_usr, m.rules_etc}) {
    if (mkdir(d.c_str(), 0755) != 0) throw std::runtime_error("cannot make " + d);
    chmod(d.c_str(), 0755);
  }
  const std::string policy = BuildPath("polkit/io.github.nmkillswitch.policy");
  std::string actions = ReadFile(policy);
  if (actions.find("io.github.nmkillswitch.release-lockdown") == std::string::npos) {
    throw std::runtime_error(policy + " is missing or incomplete: build the polkit target");
  }
  WriteFile(m.actions + "/io.github.nmkillswitch.policy", actions);
  if (std::string debian = ReadFile("/usr/share/polkit-1/rules.d/50-default.rules");
      !debian.empty()) {
    WriteFile(m.rules_usr + "/50-default.rules", debian);
  }
  WriteFile(m.rules_etc + "/49-nmks-test.rules", rules);
  daemon_.Start({"/usr/lib/polkit-1/polkitd"}, ChildEnvironment("/", {bus.env()}), log_, -1,
                MountPolkitDirs, &m);
  AwaitName(bus, daemon_, "org.freedesktop.PolicyKit1", log_);
}

Polkit::~Polkit() { Stop(); }

void Polkit::Stop() { daemon_.Stop(); }

// ---------------------------------------------------------------- user

TestUser::TestUser(const std::string& prefix) {
  // Users a run killed by a signal left behind: PREFIX<pid>-<n> of a pid that is gone.
  std::vector<std::string> stale;
  setpwent();
  for (passwd* pw = getpwent(); pw != nullptr; pw = getpwent()) {
    std::string name = pw->pw_name;
    if (name.rfind(prefix, 0) != 0) continue;
    long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) stale.push_back(name);
  }
  endpwent();
  for (const std::string& name : stale) Execute({.argv = {"userdel", name}});

  static int counter = 0;
  for (int tries = 0; tries < 20; ++tries) {
    name_ = prefix + std::to_string(getpid()) + "-" + std::to_string(++counter);
    if (getpwnam(name_.c_str()) == nullptr) break;
  }
  Outcome r = Execute(
      {.argv = {"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name_}});
  if (r.exit_code != 0) throw std::runtime_error("useradd " + name_ + ": " + r.all());
  created_ = true;
  passwd* pw = getpwnam(name_.c_str());
  if (pw == nullptr) throw std::runtime_error("useradd made no " + name_);
  caller_ = {pw->pw_uid, pw->pw_gid, "/nonexistent"};
}

TestUser::~TestUser() {
  if (!created_) return;
  Outcome r = Execute({.argv = {"userdel", name_}});
  if (r.exit_code != 0) {
    std::fprintf(stderr, "warning: userdel %s: %s\n", name_.c_str(), r.all().c_str());
  }
}

// ---------------------------------------------------------------- guard

FdStore::FdStore(const TempDir& dir) : path_(dir / "notify") {
  socket_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path_.c_str());
  if (socket_ < 0 || bind(socket_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("cannot bind " + path_);
  }
}

FdStore::~FdStore() {
  if (kept_ >= 0) close(kept_);
  if (socket_ >= 0) close(socket_);
  unlink(path_.c_str());
}

int FdStore::Receive() {
  for (;;) {
    char text[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 8)];
    iovec iov{text, sizeof text - 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(socket_, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) return kept_;
    std::string message(text, static_cast<size_t>(n));
    std::vector<int> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        fds.push_back(fd);
      }
    }
    bool named = message.find("FDNAME=nft-owner") != std::string::npos;
    if (named && message.find("FDSTOREREMOVE=1") != std::string::npos && kept_ >= 0) {
      close(kept_);
      kept_ = -1;
    }
    for (int fd : fds) {
      if (named && message.find("FDSTORE=1") != std::string::npos && kept_ < 0) {
        kept_ = fd;
      } else {
        close(fd);
      }
    }
  }
}

namespace {

// In the child: the kept descriptor becomes fd 3, as systemd passes it.
bool PassKeptFd(void* arg) {
  int fd = *static_cast<int*>(arg);
  if (fd == 3) return fcntl(3, F_SETFD, 0) == 0;
  return dup2(fd, 3) == 3;
}

}  // namespace

GuardProcess::GuardProcess(const world::Netns& ns, const PrivateBus& bus, GuardFiles files,
                           std::string protection, std::string log, FdStore* store)
    : log_(std::move(log)) {
  std::vector<std::string> argv = {GuardBinary(),    "--protection", protection,     "--state-file",
                                   files.state_file, "--boot-file",  files.boot_file};
  std::vector<std::string> env = {bus.env()};
  static int kept_fd = -1;
  if (store != nullptr) {
    env.push_back(store->env());
    kept_fd = store->Receive();
    if (kept_fd >= 0) {
      // LISTEN_PID must be the guard's own PID: a shell learns it and execs.
      env.push_back("LISTEN_FDS=1");
      env.push_back("LISTEN_FDNAMES=nft-owner");
      argv.insert(argv.begin(), {"/bin/sh", "-c", "LISTEN_PID=$$ exec \"$0\" \"$@\""});
    }
  }
  process_.Start(argv, ChildEnvironment("/root", env), log_, ns.fd(),
                 kept_fd >= 0 && store != nullptr ? PassKeptFd : nullptr, &kept_fd);
  AwaitName(bus, process_, kGuardBusName, log_);
  if (store != nullptr) store->Receive();
}

FrontProcess::FrontProcess(const PrivateBus& bus, std::string log, std::vector<std::string> args)
    : log_(std::move(log)) {
  std::vector<std::string> argv = {FrontBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  process_.Start(argv, ChildEnvironment("/root", {bus.env()}), log_, -1);
  AwaitName(bus, process_, kFrontBusName, log_);
}

Reply CallGuard(GDBusConnection* bus, const char* method, GVariant* params,
                std::chrono::milliseconds timeout) {
  Reply reply;
  GError* error = nullptr;
  GVariant* value = g_dbus_connection_call_sync(bus, kGuardBusName, kGuardObjectPath, kGuardBusName,
                                                method, params, nullptr, G_DBUS_CALL_FLAGS_NONE,
                                                static_cast<int>(timeout.count()), nullptr, &error);
  if (value != nullptr) {
    reply.value = TakeVariant(value);
    return reply;
  }
  reply.error_name = DBusErrorName(error);
  if (g_dbus_error_is_remote_error(error)) g_dbus_error_strip_remote_error(error);
  reply.error = error ? error->message : "unknown error";
  g_clear_error(&error);
  return reply;
}

Status SameTable(const TableState& before, const TableState& after) {
  if (before.exists != after.exists) {
    return Status::Error(before.exists ? "the table is gone" : "a table appeared");
  }
  if (!before.exists) return Status::Ok();
  if (before.flags != after.flags) {
    return Status::Error("the table flags changed from " + std::to_string(before.flags) + " to " +
                         std::to_string(after.flags));
  }
  return CompareTable(WithoutCounts(before.ruleset), after);
}

// ---------------------------------------------------------------- traffic

PacedUdp::PacedUdp(const world::Netns& ns, const std::string& to, uint16_t port)
    : child_(ns, world::User::kNobody, [to, port](int stop_fd) {
        Totals totals;
        sockaddr_storage addr{};
        socklen_t len = 0;
        auto* in4 = reinterpret_cast<sockaddr_in*>(&addr);
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        len = sizeof *in4;
        int s = inet_pton(AF_INET, to.c_str(), &in4->sin_addr) == 1
                    ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)
                    : -1;
        pollfd stop{stop_fd, POLLIN, 0};
        const char payload[] = "nm-killswitch paced";
        while (s >= 0 && poll(&stop, 1, 1) == 0) {
          ++totals.attempts;
          if (sendto(s, payload, sizeof payload, 0, reinterpret_cast<sockaddr*>(&addr), len) >= 0) {
            ++totals.taken;
          }
        }
        if (s >= 0) close(s);
        world::ChildOutput out(sizeof totals);
        std::memcpy(out.data(), &totals, sizeof totals);
        return out;
      }) {}

PacedUdp::Totals PacedUdp::Finish() {
  auto out = child_.Finish();
  Totals totals;
  if (!out.ok() || out.value().size() != sizeof totals) {
    ADD_FAILURE() << "the paced sender failed: " << out.message();
    return totals;
  }
  std::memcpy(&totals, out.value().data(), sizeof totals);
  return totals;
}

// ---------------------------------------------------------------- fixture

void GuardTest::SetUp() {
  NMKS_REQUIRE_REAL_PARTS();
  dir_ = std::make_unique<TempDir>();
  world_ = std::make_unique<world::World>();
  world_->RouteViaTunnel(kInTunnel);
  bus_ = std::make_unique<PrivateBus>(*dir_);
  StartFront();
}

void GuardTest::TearDown() {
  front_.reset();
  guard_.reset();
  polkit_.reset();
  bus_.reset();
  world_.reset();
  if (HasFailure() && dir_) {
    std::printf("---- guard log\n%s---- end of guard log\n", ReadFile(guard_log()).c_str());
    std::printf("---- front log\n%s---- end of front log\n", ReadFile(front_log()).c_str());
  }
  dir_.reset();
}

void GuardTest::StartGuard(const std::string& protection, FdStore* store) {
  guard_.reset();
  guard_ = std::make_unique<GuardProcess>(world().client, bus(), files(), protection, guard_log(),
                                          store);
}

void GuardTest::StartFront(const std::vector<std::string>& args) {
  front_.reset();
  front_ = std::make_unique<FrontProcess>(bus(), front_log(), args);
}

Outcome GuardTest::Nft(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"nft"};
  argv.insert(argv.end(), args.begin(), args.end());
  world::CommandResult r = world().client.Run(argv);
  return {r.exit_code, r.output, ""};
}

Outcome GuardTest::Cli(const std::vector<std::string>& args, const Caller& caller) {
  return CliIn(world().client, args, caller);
}

Outcome GuardTest::CliIn(const world::Netns& ns, const std::vector<std::string>& args,
                         const Caller& caller) {
  Spawn s{.argv = {CliBinary()}, .netns_fd = ns.fd(), .caller = caller, .env = {bus().env()}};
  s.argv.insert(s.argv.end(), args.begin(), args.end());
  return Execute(s);
}

TableState GuardTest::Table() { return TableIn(world().client); }

TableState GuardTest::TableIn(const world::Netns& ns) {
  auto state = world::ReadTableIn(ns);
  EXPECT_TRUE(state.ok()) << state.message();
  return state.ok() ? state.value() : TableState{};
}

uint64_t GuardTest::Leaks(uint16_t port) {
  world::Tally tally(world().router,
                     std::string("ip daddr ") + kOutside + " udp dport " + std::to_string(port));
  world::ProbeResult r = world::Send(world().client, {.to = kOutside, .port = port, .count = 2});
  return tally.Await(r.sent);
}

uint64_t GuardTest::Tunneled(uint16_t port) {
  world::Tally tally(world().vpn,
                     std::string("ip daddr ") + kInTunnel + " udp dport " + std::to_string(port));
  world::ProbeResult r = world::Send(world().client, {.to = kInTunnel, .port = port, .count = 2});
  return tally.Await(r.sent);
}

Engagements GuardTest::EngagedNow() {
  Reply r = CallGuard(bus().connection(), "Status", nullptr);
  EXPECT_TRUE(r.ok()) << r.error;
  if (!r.ok()) return {};
  GVariantPtr status(g_variant_get_child_value(r.value.get(), 0));
  GVariantPtr connections(
      g_variant_lookup_value(status.get(), "connections", G_VARIANT_TYPE("a{sa{sv}}")));
  if (!connections) {
    ADD_FAILURE() << "Status has no connections";
    return {};
  }
  auto engaged = EngagementsFromVariant(connections.get());
  EXPECT_TRUE(engaged.ok()) << engaged.message();
  if (!engaged.ok()) return {};
  // Status lists a sample of each connection's endpoints; Policy all of them.
  Engagements whole;
  for (const auto& [id, sample] : engaged.value()) {
    Reply p = CallGuard(bus().connection(), "Policy", g_variant_new("(s)", id.c_str()));
    EXPECT_TRUE(p.ok()) << p.error;
    if (!p.ok()) return {};
    gboolean is_engaged = FALSE;
    GVariant* dict = nullptr;
    g_variant_get(p.value.get(), "(b@a{sv})", &is_engaged, &dict);
    GVariantPtr owned(dict);
    EXPECT_TRUE(is_engaged) << id;
    auto req = PolicyFromVariant(dict);
    EXPECT_TRUE(req.ok()) << req.message();
    if (!req.ok()) return {};
    Policy policy = req.value().policy;
    policy.connections = {id};
    Normalize(policy);
    whole[id] = policy;
  }
  return whole;
}

}  // namespace nmks::guardtest
