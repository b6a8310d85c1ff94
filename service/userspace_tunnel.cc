#include "service/userspace_tunnel.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <utility>
#include <vector>

#include "base/i18n.h"
#include "service/tun_device.h"
#include "service/uapi.h"

namespace nmks::wg {
namespace {

constexpr int kStartTimeoutMs = 5000;
constexpr int kMaxBackoffMs = 5000;

const char* WireguardGo() {
  const char* path = getenv("NMKS_WIREGUARD_GO");
  return path && *path ? path : "/usr/bin/wireguard-go";
}

// Wipes a string holding key material before it is freed.
struct Wiped {
  std::string text;
  ~Wiped() { explicit_bzero(text.data(), text.size()); }
};

}  // namespace

UserspaceTunnel::UserspaceTunnel(Log log) : log_(std::move(log)) {}

UserspaceTunnel::~UserspaceTunnel() { Remove(); }

std::string UserspaceTunnel::SocketPath() const {
  return "/proc/" + std::to_string(pid_) + "/root/run/wireguard/" + config_.ifname + ".sock";
}

Status UserspaceTunnel::Start() {
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls until exec.
  const std::string exe = WireguardGo();
  std::vector<std::string> args = {"wireguard-go", "-f", config_.ifname};
  std::vector<std::string> env = {"WG_PROCESS_FOREGROUND=1", "LOG_LEVEL=error",
                                  "PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const pid_t parent = getpid();

  pid_t pid = fork();
  if (pid < 0) return Status::Error(Format(_("cannot start wireguard-go: %s"), strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the plugin
    if (getppid() != parent) _exit(1);
    if (unshare(CLONE_NEWNS) != 0) _exit(2);
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(3);
    mkdir("/run/wireguard", 0700);
    if (mount("tmpfs", "/run/wireguard", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "mode=0700,size=1m") != 0) {
      _exit(4);
    }
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull >= 0) dup2(devnull, 0);
    execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  pid_ = pid;
  child_watch_ = g_child_watch_add(pid, ChildExited, this);

  // Ready when its socket answers.
  const std::string socket = SocketPath();
  for (int waited = 0; waited < kStartTimeoutMs; waited += 5) {
    struct stat st;
    if (stat(socket.c_str(), &st) == 0 && UapiGet(socket, 500).ok()) {
      ApplyMtu();
      return Status::Ok();
    }
    if (waitpid(pid, nullptr, WNOHANG) == pid) {  // died at once
      g_source_remove(child_watch_);
      child_watch_ = 0;
      pid_ = -1;
      break;
    }
    usleep(5000);
  }
  Stop();
  return Status::Error(Format(_("wireguard-go did not start for %s (is the wireguard-go package "
                                "installed and /dev/net/tun available?)"),
                              config_.ifname.c_str()));
}

// wireguard-go sets its default MTU whenever it opens the interface; put
// the configured one back.
void UserspaceTunnel::ApplyMtu() {
  if (!config_.mtu) return;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  ifreq ifr{};
  strncpy(ifr.ifr_name, config_.ifname.c_str(), IFNAMSIZ - 1);
  ifr.ifr_mtu = static_cast<int>(*config_.mtu);
  if (ioctl(fd, SIOCSIFMTU, &ifr) < 0 && log_) {
    log_(Format(_("cannot set the MTU of %s: %s"), config_.ifname.c_str(), strerror(errno)));
  }
  close(fd);
}

void UserspaceTunnel::Stop() {
  if (child_watch_) {
    g_source_remove(child_watch_);
    child_watch_ = 0;
  }
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int waited = 0;
    while (waitpid(pid_, nullptr, WNOHANG) == 0 && waited < 2000) {
      usleep(5000);
      waited += 5;
    }
    if (waited >= 2000) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
}

Status UserspaceTunnel::Configure(const DeviceConfig& config) {
  bool same_device = configured_ && config.ifname == config_.ifname;
  config_ = config;
  removing_ = false;
  if (!same_device) {
    if (Status s = CreatePersistentTun(config_.ifname); !s.ok()) return s;
  }
  if (pid_ <= 0) {
    if (Status s = Start(); !s.ok()) return s;
  }
  Wiped body{EncodeSet(config_)};
  if (Status s = UapiSet(SocketPath(), body.text); !s.ok()) return s;
  configured_ = true;
  return Status::Ok();
}

Status UserspaceTunnel::RefreshEndpoints() {
  if (!configured_ || pid_ <= 0) return Status::Ok();
  return UapiSet(SocketPath(), EncodeEndpointRefresh(config_));
}

void UserspaceTunnel::Remove() {
  removing_ = true;
  if (restart_source_) {
    g_source_remove(restart_source_);
    restart_source_ = 0;
  }
  Stop();
  if (configured_) {
    if (Status s = RemovePersistentTun(config_.ifname); !s.ok() && log_) log_(s.message());
    configured_ = false;
  }
}

void UserspaceTunnel::ChildExited(GPid pid, gint wait_status, gpointer self) {
  auto* t = static_cast<UserspaceTunnel*>(self);
  g_spawn_close_pid(pid);
  t->child_watch_ = 0;
  if (pid == t->pid_) t->OnExit(wait_status);
}

void UserspaceTunnel::OnExit(int wait_status) {
  pid_ = -1;
  if (removing_ || !configured_) return;
  if (log_) {
    log_(Format(_("wireguard-go for %s stopped (%s %d); the kill switch keeps blocking while it "
                  "is started again"),
                config_.ifname.c_str(), WIFSIGNALED(wait_status) ? "signal" : "exit status",
                WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : WEXITSTATUS(wait_status)));
  }
  restart_source_ = g_timeout_add(static_cast<guint>(backoff_ms_), RestartLater, this);
  backoff_ms_ = std::min(backoff_ms_ * 2, kMaxBackoffMs);
}

gboolean UserspaceTunnel::RestartLater(gpointer self) {
  auto* t = static_cast<UserspaceTunnel*>(self);
  t->restart_source_ = 0;
  if (t->removing_) return G_SOURCE_REMOVE;
  ++t->restarts_;
  Status s = t->Start();
  if (s.ok()) {
    Wiped body{EncodeSet(t->config_)};
    s = UapiSet(t->SocketPath(), body.text);
  }
  if (!s.ok()) {
    if (t->log_) t->log_(s.message());
    if (t->pid_ <= 0) {
      t->restart_source_ = g_timeout_add(static_cast<guint>(t->backoff_ms_), RestartLater, t);
      t->backoff_ms_ = std::min(t->backoff_ms_ * 2, kMaxBackoffMs);
    }
    return G_SOURCE_REMOVE;
  }
  if (t->log_) t->log_(Format(_("wireguard-go for %s is back"), t->config_.ifname.c_str()));
  t->backoff_ms_ = 100;
  return G_SOURCE_REMOVE;
}

}  // namespace nmks::wg
