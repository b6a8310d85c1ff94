// Throwaway network namespaces for kernel tests. A Netns exists from its
// constructor to its destructor and takes every interface, route and
// nftables table made in it along when it goes, so a failing test leaves
// nothing behind. Code runs inside a namespace three ways: a command
// (Run/Sh, like `ip netns exec`), a C++ function in a forked child that may
// drop to an unprivileged user (Call/Background), or this very thread for a
// while (NetnsScope), which is how a TableWriter is opened inside one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/status.h"

namespace nmks::world {

// How a command ended and what it printed (stdout and stderr together).
struct CommandResult {
  int exit_code = -1;  // -1 if it did not exit normally
  std::string output;
  bool ok() const { return exit_code == 0; }
};

// Runs argv (found on PATH) with `input` on its stdin, in this thread's namespaces.
CommandResult Run(const std::vector<std::string>& argv, const std::string& input = "");

// Who a forked child runs as inside the namespace.
enum class User : uint8_t {
  kRoot,
  kNobody,  // uid and gid 65534, no supplementary groups, no capabilities
};

// Bytes a forked child hands back to the test.
using ChildOutput = std::vector<char>;

class Netns {
 public:
  // Creates /run/netns/ks-<tag><pid>-<n> with loopback up and IPv6 duplicate
  // address detection off, so addresses are usable at once.
  explicit Netns(std::string_view tag);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }
  int fd() const { return fd_; }

  // Replaces the namespace with a fresh one of the same name, as a machine
  // that reboots: every interface, address, route, rule and nftables table
  // in it is gone (the old namespace lives on only while a process or a
  // socket still holds it). Throws if the new one cannot be made.
  void Renew();

  // Runs a command inside the namespace (setns, then exec; /sys is not remounted).
  CommandResult Run(const std::vector<std::string>& argv, const std::string& input = "") const;
  // Runs a /bin/sh script inside the namespace.
  CommandResult Sh(const std::string& script, const std::string& input = "") const;
  // Like Sh, but throws if the script fails (naming it and its output): a
  // test whose world cannot be built must not go on.
  std::string Must(const std::string& script, const std::string& input = "") const;
  // Runs `ip` commands, one a line, in one `ip -batch` inside the namespace; throws on failure.
  void Ip(const std::string& commands) const;
  // Writes /proc/sys/<key with dots as slashes> inside the namespace; throws on failure.
  void Sysctl(const std::string& key, const std::string& value) const;
  // The packets of the named counter `name` of table `inet TABLE`; throws
  // when it cannot be read (after a few tries): a count that silently read
  // 0 would let a leak test pass, or fail it for nothing.
  uint64_t NftCounter(const std::string& table, const std::string& name) const;

  // PIDs of the processes in this network namespace for which `match`,
  // given their /proc directory ("/proc/PID"), says yes.
  std::vector<pid_t> Processes(const std::function<bool(const std::string& proc)>& match) const;
  // ... those named `comm` (/proc/PID/comm).
  std::vector<pid_t> ProcessesNamed(const std::string& comm) const;

  // Runs `fn` in a forked child that entered this namespace (and dropped to
  // `user`), and returns what it returned. An error if the child died.
  Result<ChildOutput> CallRaw(User user, const std::function<ChildOutput()>& fn) const;

  template <typename T>
  Result<T> Call(User user, const std::function<T()>& fn) const {
    static_assert(std::is_trivially_copyable_v<T>);
    auto out = CallRaw(user, [&fn] {
      T value = fn();
      ChildOutput bytes(sizeof(T));
      std::memcpy(bytes.data(), &value, sizeof(T));
      return bytes;
    });
    if (!out.ok()) return out.status();
    if (out.value().size() != sizeof(T)) return Status::Error("child returned a short answer");
    T value;
    std::memcpy(&value, out.value().data(), sizeof(T));
    return value;
  }

 private:
  void Create();
  void Delete();

  std::string name_;
  int fd_ = -1;
};

// A function running in a forked child inside a namespace until Finish()
// asks it to stop. `fn` gets a file descriptor that becomes readable (EOF)
// when it should stop. The destructor kills a child that is still running.
class Background {
 public:
  Background(const Netns& ns, User user, std::function<ChildOutput(int stop_fd)> fn);
  ~Background();
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Tells the child to stop, waits for it and returns what it returned.
  Result<ChildOutput> Finish();

 private:
  pid_t pid_ = -1;
  int stop_fd_ = -1;    // write end; closing it tells the child to stop
  int result_fd_ = -1;  // read end of the child's answer
};

// While it lives, the calling thread is inside `ns`: sockets it opens
// (a TableWriter's too) belong to that namespace for their whole life.
// Aborts the process if it cannot enter or leave, so nothing a test does
// can land in the host's namespace by mistake.
class NetnsScope {
 public:
  explicit NetnsScope(const Netns& ns);
  ~NetnsScope();
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

 private:
  int saved_fd_ = -1;
};

// True if the calling thread is in `ns` right now.
bool InNetns(const Netns& ns);

}  // namespace nmks::world
