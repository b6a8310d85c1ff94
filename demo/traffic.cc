// nmks-traffic: keeps traffic running for the demo and the end-to-end
// tests, the way ordinary programs would: UDP datagrams, TCP connection
// attempts and DNS queries, IPv4 and IPv6, from an unprivileged user (it
// drops to nobody when started as root). It never decides whether a packet
// leaked; the far side counts what arrives.
//
//   nmks-traffic [--rate N] [--udp ADDR:PORT]... [--tcp ADDR:PORT]... [--dns ADDR]...
//
// Runs until SIGTERM/SIGINT, then prints "sent N failed M" per target.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;

struct Target {
  enum Kind { kUdp, kTcp, kDns } kind;
  std::string text;
  sockaddr_storage addr{};
  socklen_t len = 0;
  unsigned long sent = 0, failed = 0;
};

bool ParseAddr(const std::string& text, uint16_t default_port, Target& t) {
  std::string host = text, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size() && text[close + 1] == ':') port = text.substr(close + 2);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  uint16_t p = port.empty() ? default_port : static_cast<uint16_t>(std::atoi(port.c_str()));
  auto* a4 = reinterpret_cast<sockaddr_in*>(&t.addr);
  auto* a6 = reinterpret_cast<sockaddr_in6*>(&t.addr);
  if (inet_pton(AF_INET, host.c_str(), &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons(p);
    t.len = sizeof *a4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(p);
    t.len = sizeof *a6;
    return true;
  }
  return false;
}

// A minimal DNS query for example.com A.
std::vector<unsigned char> DnsQuery(uint16_t id) {
  std::vector<unsigned char> q = {static_cast<unsigned char>(id >> 8),
                                  static_cast<unsigned char>(id),
                                  0x01,
                                  0x00,
                                  0,
                                  1,
                                  0,
                                  0,
                                  0,
                                  0,
                                  0,
                                  0};
  for (const char* label : {"example", "com"}) {
    q.push_back(static_cast<unsigned char>(std::strlen(label)));
    q.insert(q.end(), label, label + std::strlen(label));
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

void SendOne(Target& t, uint16_t seq) {
  int type = t.kind == Target::kTcp ? SOCK_STREAM : SOCK_DGRAM;
  int fd = socket(t.addr.ss_family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    ++t.failed;
    return;
  }
  bool ok;
  if (t.kind == Target::kTcp) {
    ok = connect(fd, reinterpret_cast<sockaddr*>(&t.addr), t.len) == 0 || errno == EINPROGRESS;
  } else {
    std::vector<unsigned char> payload =
        t.kind == Target::kDns ? DnsQuery(seq) : std::vector<unsigned char>(64, 'x');
    ok = sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&t.addr),
                t.len) >= 0;
  }
  ++(ok ? t.sent : t.failed);
  close(fd);
}

// Reads the command line into `targets` and `rate`; returns 0, or the exit
// code after saying what is wrong.
int ParseArguments(int argc, char** argv, std::vector<Target>* targets, int* rate) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "nmks-traffic: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--rate") {
      *rate = std::atoi(next().c_str());
      continue;
    }
    Target t;
    if (a == "--udp") {
      t.kind = Target::kUdp;
    } else if (a == "--tcp") {
      t.kind = Target::kTcp;
    } else if (a == "--dns") {
      t.kind = Target::kDns;
    } else {
      std::fprintf(stderr, "usage: nmks-traffic [--rate N] [--udp A:P] [--tcp A:P] [--dns A]\n");
      return 2;
    }
    t.text = next();
    if (!ParseAddr(t.text, t.kind == Target::kDns ? 53 : 9, t)) {
      std::fprintf(stderr, "nmks-traffic: bad address %s\n", t.text.c_str());
      return 2;
    }
    targets->push_back(t);
  }
  if (targets->empty() || *rate <= 0) {
    std::fprintf(stderr, "usage: nmks-traffic [--rate N] [--udp A:P] [--tcp A:P] [--dns A]\n");
    return 2;
  }
  return 0;
}

// One round to every target `rate` times a second, until SIGTERM or SIGINT.
void SendUntilStopped(std::vector<Target>& targets, int rate) {
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop = 1; };
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  const long interval_ns = 1000000000L / rate;
  uint16_t seq = 0;
  timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!g_stop) {
    for (Target& t : targets) SendOne(t, seq);
    ++seq;
    next.tv_nsec += interval_ns;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      ++next.tv_sec;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Target> targets;
  int rate = 100;  // per target per second
  if (int code = ParseArguments(argc, argv, &targets, &rate); code != 0) return code;
  if (geteuid() == 0 && (setgroups(0, nullptr) < 0 || setgid(65534) < 0 || setuid(65534) < 0)) {
    std::perror("nmks-traffic: cannot drop to nobody");
    return 1;
  }
  SendUntilStopped(targets, rate);
  for (const Target& t : targets) {
    std::printf("%s %s sent %lu failed %lu\n",
                t.kind == Target::kUdp   ? "udp"
                : t.kind == Target::kTcp ? "tcp"
                                         : "dns",
                t.text.c_str(), t.sent, t.failed);
  }
  return 0;
}
