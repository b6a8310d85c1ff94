#include "tests/world/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nmks::world {
namespace {

constexpr uid_t kNobody = 65534;

// The namespaces alive in this process, so that a run killed by SIGTERM,
// SIGINT or SIGHUP (meson's timeout, Ctrl-C) still deletes them: the
// handler does what `ip netns del` does, with async-signal-safe calls only.
struct ReaperSlot {
  volatile sig_atomic_t used = 0;
  char path[96] = {};
};

class Reaper {
 public:
  static void Add(const std::string& path) {
    static bool installed = [] {
      struct sigaction sa {};
      sa.sa_handler = &Reaper::OnSignal;
      sa.sa_flags = SA_RESETHAND;
      sigemptyset(&sa.sa_mask);
      for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
      return true;
    }();
    (void)installed;
    for (ReaperSlot& slot : slots_) {
      if (slot.used == 0 && path.size() < sizeof slot.path) {
        std::memcpy(slot.path, path.c_str(), path.size() + 1);
        slot.used = 1;
        return;
      }
    }
  }
  static void Remove(const std::string& path) {
    for (ReaperSlot& slot : slots_) {
      if (slot.used != 0 && path == slot.path) slot.used = 0;
    }
  }
  // In a forked child: the namespaces are the parent's business.
  static void ForgetInChild() {
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) signal(sig, SIG_DFL);
    for (ReaperSlot& slot : slots_) slot.used = 0;
  }

 private:
  static void OnSignal(int sig) {
    for (ReaperSlot& slot : slots_) {
      if (slot.used == 0) continue;
      umount2(slot.path, MNT_DETACH);
      unlink(slot.path);
    }
    raise(sig);  // SA_RESETHAND: now the default action, death
  }
  static inline ReaperSlot slots_[64];
};

void WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data += n;
    size -= static_cast<size_t>(n);
  }
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// In a forked child: enter the namespace (if any) and become `user`.
// Returns false if that failed; the child must then exit at once.
bool Become(int ns_fd, User user) {
  Reaper::ForgetInChild();
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (ns_fd >= 0 && setns(ns_fd, CLONE_NEWNET) != 0) return false;
  if (user == User::kNobody) {
    if (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) != 0 ||
        setresuid(kNobody, kNobody, kNobody) != 0) {
      return false;
    }
  }
  return true;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

CommandResult RunIn(int ns_fd, const std::vector<std::string>& argv, const std::string& input) {
  // A command that exits before reading all its input must not kill the
  // test with SIGPIPE; the write just fails.
  static const bool ignore_sigpipe = signal(SIGPIPE, SIG_IGN) != SIG_ERR;
  (void)ignore_sigpipe;
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return {-1, "pipe failed"};
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return {-1, "pipe failed"};
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    if (!Become(ns_fd, User::kRoot)) _exit(126);
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  if (pid < 0) {
    close(in[1]);
    close(out[0]);
    return {-1, "fork failed"};
  }
  WriteAll(in[1], input.data(), input.size());
  close(in[1]);
  CommandResult result;
  result.output = ReadAll(out[0]);
  close(out[0]);
  result.exit_code = WaitExit(pid);
  return result;
}

[[noreturn]] void Fatal(const std::string& what) { throw std::runtime_error(what); }

}  // namespace

CommandResult Run(const std::vector<std::string>& argv, const std::string& input) {
  return RunIn(-1, argv, input);
}

Netns::Netns(std::string_view tag) {
  static std::atomic<int> counter{0};
  name_ = "ks-" + std::string(tag) + std::to_string(getpid()) + "-" + std::to_string(++counter);
  Create();
}

void Netns::Create() {
  if (CommandResult r = world::Run({"ip", "netns", "add", name_}); !r.ok()) {
    Fatal("ip netns add " + name_ + ": " + r.output);
  }
  Reaper::Add("/run/netns/" + name_);
  fd_ = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    world::Run({"ip", "netns", "del", name_});
    Reaper::Remove("/run/netns/" + name_);
    Fatal("cannot open /run/netns/" + name_);
  }
  // Devices made later inherit "default"; "all" covers the ones there now.
  // No router advertisements or solicitations: only the test's own packets.
  try {
    Sysctl("net.ipv6.conf.all.accept_dad", "0");
    Sysctl("net.ipv6.conf.default.accept_dad", "0");
    Sysctl("net.ipv6.conf.default.accept_ra", "0");
    Sysctl("net.ipv6.conf.default.router_solicitations", "0");
    NetnsScope in(*this);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    bool up = s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0 &&
              (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) == 0);
    if (s >= 0) close(s);
    if (!up) Fatal("cannot bring lo up in " + name_);
  } catch (...) {
    close(fd_);
    fd_ = -1;
    world::Run({"ip", "netns", "del", name_});
    Reaper::Remove("/run/netns/" + name_);
    throw;
  }
}

Netns::~Netns() { Delete(); }

void Netns::Delete() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (CommandResult r = world::Run({"ip", "netns", "del", name_}); !r.ok()) {
    std::fprintf(stderr, "warning: ip netns del %s: %s\n", name_.c_str(), r.output.c_str());
  }
  Reaper::Remove("/run/netns/" + name_);
}

void Netns::Renew() {
  Delete();
  Create();
}

CommandResult Netns::Run(const std::vector<std::string>& argv, const std::string& input) const {
  return RunIn(fd_, argv, input);
}

CommandResult Netns::Sh(const std::string& script, const std::string& input) const {
  return Run({"/bin/sh", "-c", script}, input);
}

std::string Netns::Must(const std::string& script, const std::string& input) const {
  CommandResult r = Sh(script, input);
  if (!r.ok()) {
    Fatal("in " + name_ + ": `" + script + "` exited " + std::to_string(r.exit_code) + ": " +
          r.output);
  }
  return r.output;
}

uint64_t Netns::NftCounter(const std::string& table, const std::string& name) const {
  CommandResult r;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) usleep(20000);
    r = Run({"nft", "list", "counter", "inet", table, name});
    size_t at = r.output.find("packets ");
    if (!r.ok() || at == std::string::npos) continue;
    char* end = nullptr;
    unsigned long long n = std::strtoull(r.output.c_str() + at + 8, &end, 10);
    if (end != r.output.c_str() + at + 8) return n;
  }
  Fatal("in " + name_ + ": cannot read counter " + name + " of table inet " + table + " (exit " +
        std::to_string(r.exit_code) + "): " + r.output);
}

std::vector<pid_t> Netns::Processes(
    const std::function<bool(const std::string& proc)>& match) const {
  std::vector<pid_t> out;
  struct stat want {};
  if (fstat(fd_, &want) != 0) return out;
  DIR* d = opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0) continue;
    std::string proc = "/proc/" + std::to_string(pid);
    struct stat ns {};
    if (stat((proc + "/ns/net").c_str(), &ns) != 0 || ns.st_ino != want.st_ino) continue;
    if (match(proc)) out.push_back(pid);
  }
  closedir(d);
  return out;
}

std::vector<pid_t> Netns::ProcessesNamed(const std::string& comm) const {
  return Processes([&comm](const std::string& proc) {
    std::ifstream in(proc + "/comm");
    std::string name;
    std::getline(in, name);
    return name == comm;
  });
}

void Netns::Ip(const std::string& commands) const {
  CommandResult r = world::Run({"ip", "-n", name_, "-batch", "-"}, commands);
  if (!r.ok()) Fatal("in " + name_ + ": ip -batch failed: " + r.output + "\n" + commands);
}

void Netns::Sysctl(const std::string& key, const std::string& value) const {
  std::string path = "/proc/sys/" + key;
  for (char& c : path) {
    if (c == '.') c = '/';
  }
  // /proc/sys/net belongs to the namespace of the thread that opens it.
  NetnsScope in(*this);
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  bool written =
      fd >= 0 && write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size());
  if (fd >= 0) close(fd);
  if (!written) Fatal("cannot set " + key + " in " + name_ + ": " + std::strerror(errno));
}

Result<ChildOutput> Netns::CallRaw(User user, const std::function<ChildOutput()>& fn) const {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return Status::Error("pipe failed");
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    if (!Become(fd_, user)) _exit(125);
    ChildOutput out = fn();
    WriteAll(p[1], out.data(), out.size());
    _exit(0);
  }
  close(p[1]);
  if (pid < 0) {
    close(p[0]);
    return Status::Error("fork failed");
  }
  std::string bytes = ReadAll(p[0]);
  close(p[0]);
  if (int code = WaitExit(pid); code != 0) {
    return Status::Error("child in " + name_ + " failed with exit code " + std::to_string(code));
  }
  return ChildOutput(bytes.begin(), bytes.end());
}

namespace {
// The write ends of every running Background's stop pipe. A child closes
// the others' on start: holding a copy would keep an earlier child from
// ever seeing its stop signal (EOF) when that one is finished first.
std::vector<int>& StopWriters() {
  static std::vector<int> fds;
  return fds;
}
void ForgetStopWriter(int fd) {
  auto& fds = StopWriters();
  fds.erase(std::remove(fds.begin(), fds.end(), fd), fds.end());
}
}  // namespace

Background::Background(const Netns& ns, User user, std::function<ChildOutput(int)> fn) {
  int stop[2], result[2];
  if (pipe2(stop, O_CLOEXEC) != 0) Fatal("pipe failed");
  if (pipe2(result, O_CLOEXEC) != 0) {
    close(stop[0]);
    close(stop[1]);
    Fatal("pipe failed");
  }
  pid_ = fork();
  if (pid_ == 0) {
    close(stop[1]);
    close(result[0]);
    for (int fd : StopWriters()) close(fd);
    if (!Become(ns.fd(), user)) _exit(125);
    ChildOutput out = fn(stop[0]);
    WriteAll(result[1], out.data(), out.size());
    _exit(0);
  }
  close(stop[0]);
  close(result[1]);
  stop_fd_ = stop[1];
  result_fd_ = result[0];
  StopWriters().push_back(stop_fd_);
  if (pid_ < 0) {
    close(stop_fd_);
    close(result_fd_);
    Fatal("fork failed");
  }
}

Background::~Background() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    WaitExit(pid_);
  }
  if (stop_fd_ >= 0) {
    ForgetStopWriter(stop_fd_);
    close(stop_fd_);
  }
  if (result_fd_ >= 0) close(result_fd_);
}

Result<ChildOutput> Background::Finish() {
  if (pid_ <= 0) return Status::Error("background child already finished");
  ForgetStopWriter(stop_fd_);
  close(stop_fd_);
  stop_fd_ = -1;
  std::string bytes = ReadAll(result_fd_);
  close(result_fd_);
  result_fd_ = -1;
  int code = WaitExit(pid_);
  pid_ = -1;
  if (code != 0) {
    return Status::Error("background child failed with exit code " + std::to_string(code));
  }
  return ChildOutput(bytes.begin(), bytes.end());
}

NetnsScope::NetnsScope(const Netns& ns) {
  saved_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved_fd_ < 0 || setns(ns.fd(), CLONE_NEWNET) != 0 || !InNetns(ns)) {
    std::fprintf(stderr, "fatal: cannot enter network namespace %s\n", ns.name().c_str());
    std::abort();
  }
}

NetnsScope::~NetnsScope() {
  if (setns(saved_fd_, CLONE_NEWNET) != 0) {
    std::fprintf(stderr, "fatal: cannot return to the test's network namespace\n");
    std::abort();
  }
  close(saved_fd_);
}

bool InNetns(const Netns& ns) {
  struct stat self {
  }, target{};
  if (stat("/proc/thread-self/ns/net", &self) != 0 || fstat(ns.fd(), &target) != 0) return false;
  return self.st_dev == target.st_dev && self.st_ino == target.st_ino;
}

}  // namespace nmks::world
