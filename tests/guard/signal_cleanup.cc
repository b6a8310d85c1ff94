#include "tests/guard/signal_cleanup.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <iterator>

namespace nmks::guardtest {
namespace {

constexpr int kSignals[] = {SIGTERM, SIGINT, SIGHUP};

struct DirSlot {
  volatile sig_atomic_t used = 0;
  char path[128] = {};
};

volatile pid_t pids[32] = {};
DirSlot dirs[16];
struct sigaction previous[std::size(kSignals)] = {};

void RemoveTree(int parent, const char* name, int depth) {
  if (unlinkat(parent, name, 0) == 0 || depth > 6) return;
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return;
  for (int pass = 0; pass < 3 && unlinkat(parent, name, AT_REMOVEDIR) != 0; ++pass) {
    lseek(fd, 0, SEEK_SET);
    alignas(8) char buf[4096];
    for (long n; (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0;) {
      for (long at = 0; at < n;) {
        auto* d = reinterpret_cast<dirent64*>(buf + at);
        at += d->d_reclen;
        if (std::strcmp(d->d_name, ".") != 0 && std::strcmp(d->d_name, "..") != 0) {
          RemoveTree(fd, d->d_name, depth + 1);
        }
      }
    }
  }
  close(fd);
}

void OnSignal(int sig) {
  for (auto& pid : pids) {
    if (pid > 0) kill(pid, SIGKILL);
  }
  for (DirSlot& slot : dirs) {
    if (slot.used != 0) RemoveTree(AT_FDCWD, slot.path, 0);
  }
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    if (kSignals[i] != sig) continue;
    if (previous[i].sa_handler != SIG_DFL && previous[i].sa_handler != SIG_IGN &&
        !(previous[i].sa_flags & SA_SIGINFO)) {
      previous[i].sa_handler(sig);  // the world library's: it re-raises
    }
  }
  raise(sig);  // SA_RESETHAND: now the default action, death
}

// On top of whatever handler is there now (the world library installs its
// own when the first namespace is made), once per handler.
void Install() {
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    struct sigaction now {};
    sigaction(kSignals[i], nullptr, &now);
    if (now.sa_handler == &OnSignal) continue;
    previous[i] = now;
    struct sigaction sa {};
    sa.sa_handler = &OnSignal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(kSignals[i], &sa, nullptr);
  }
}

}  // namespace

void SignalCleanup::AddPid(pid_t pid) {
  for (auto& slot : pids) {
    if (slot == 0) {
      slot = pid;
      break;
    }
  }
  Install();
}

void SignalCleanup::RemovePid(pid_t pid) {
  for (auto& slot : pids) {
    if (slot == pid) slot = 0;
  }
}

void SignalCleanup::AddDir(const std::string& path) {
  for (DirSlot& slot : dirs) {
    if (slot.used == 0 && path.size() < sizeof slot.path) {
      std::memcpy(slot.path, path.c_str(), path.size() + 1);
      slot.used = 1;
      break;
    }
  }
  Install();
}

void SignalCleanup::RemoveDir(const std::string& path) {
  for (DirSlot& slot : dirs) {
    if (slot.used != 0 && path == slot.path) slot.used = 0;
  }
}

void SignalCleanup::ForgetInChild() {
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) signal(sig, SIG_DFL);
}

}  // namespace nmks::guardtest
