#include "cli/endpoint_arg.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstdio>
#include <fstream>

#include "base/i18n.h"

namespace nmks::cli {

Result<std::vector<Endpoint>> ParseEndpointArg(const std::string& text) {
  auto direct = Endpoint::Parse(text);
  if (direct.ok()) return std::vector<Endpoint>{direct.value()};
  // Not an address literal: maybe HOST:PORT[/proto].
  if (text.empty() || text[0] == '[') return direct.status();
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || text.find(':') != colon) return direct.status();
  std::string host = text.substr(0, colon);
  std::string rest = text.substr(colon);                  // ":PORT[/proto]"
  if (Address::Parse(host).ok()) return direct.status();  // an address with a bad port
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return Status::Error(Format(_("endpoint %s does not resolve (%s): nothing was engaged"),
                                host.c_str(), gai_strerror(rc)));
  }
  std::vector<Endpoint> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char buf[NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, sizeof buf, nullptr, 0, NI_NUMERICHOST) != 0)
      continue;
    std::string literal = ai->ai_family == AF_INET6 ? "[" + std::string(buf) + "]" : buf;
    auto e = Endpoint::Parse(literal + rest);
    if (!e.ok()) {
      freeaddrinfo(res);
      return e.status();
    }
    out.push_back(e.value());
  }
  freeaddrinfo(res);
  if (out.empty()) {
    return Status::Error(
        Format(_("endpoint %s has no usable address: nothing was engaged"), host.c_str()));
  }
  return out;
}

Result<std::vector<Endpoint>> ReadEndpointFile(const std::string& path) {
  // Any file, FIFO or pipe (`--endpoints-from <(...)`), but bounded: a line
  // or a file without end (/dev/zero) is refused instead of filling memory.
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::Error(Format(_("cannot read %s"), path.c_str()));
  std::vector<Endpoint> out;
  std::string line;
  size_t number = 1, total = 0;
  auto take_line = [&]() -> Status {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') return Status::Ok();
    auto e = ParseEndpointArg(line.substr(start));
    if (!e.ok()) {
      return Status::Error(Format(_("%s line %zu: %s"), path.c_str(), number, e.message().c_str()));
    }
    out.insert(out.end(), e.value().begin(), e.value().end());
    if (out.size() > kMaxEndpoints) {
      return Status::Error(
          Format(_("%s has more than %zu endpoints"), path.c_str(), kMaxEndpoints));
    }
    return Status::Ok();
  };
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    const size_t n = static_cast<size_t>(in.gcount());
    total += n;
    if (total > kMaxEndpointFileBytes) {
      return Status::Error(Format(_("%s is larger than %zu bytes; nothing was engaged"),
                                  path.c_str(), kMaxEndpointFileBytes));
    }
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] != '\n') {
        line += buf[i];
        if (line.size() > kMaxEndpointLineBytes) {
          return Status::Error(
              Format(_("%s line %zu is longer than %zu bytes; nothing was engaged"), path.c_str(),
                     number, kMaxEndpointLineBytes));
        }
        continue;
      }
      if (Status s = take_line(); !s.ok()) return s;
      line.clear();
      ++number;
    }
  }
  if (in.bad()) return Status::Error(Format(_("cannot read %s"), path.c_str()));
  if (Status s = take_line(); !s.ok()) return s;
  return out;
}

}  // namespace nmks::cli
