#include "cli/endpoint_arg.h"

#include <chrono>
#include <cstring>
#include <fstream>
#include <string_view>

#include "base/i18n.h"
#include "servers/resolve.h"

namespace nmks::cli {
namespace {

// As long as the VPN service waits for its servers' names.
constexpr std::chrono::seconds kResolveBudget{10};

}  // namespace

Result<std::vector<Endpoint>> ParseEndpointArg(const std::string& text) {
  auto direct = Endpoint::Parse(text);
  if (direct.ok()) return std::vector<Endpoint>{direct.value()};
  // Not an address literal: maybe HOST:PORT[/proto], looked up the way the
  // VPN service and the dispatcher hook look up their servers.
  auto split = SplitEndpoint(text);
  if (!split.ok() || text[0] == '[' || Address::Parse(split.value().host).ok()) {
    return direct.status();
  }
  Remote remote;
  remote.host = std::string(split.value().host);
  remote.port = split.value().port;
  remote.protocol = split.value().protocol;
  Resolution r = Resolve({remote}, kResolveBudget);
  if (r.endpoints.empty()) {
    const Resolution::Answer& answer = r.answers.front();
    return Status::Error(Format(answer.name_failed
                                    ? _("endpoint %s does not resolve (%s): nothing was engaged")
                                    : _("endpoint %s has no usable address (%s): nothing was "
                                        "engaged"),
                                remote.host.c_str(), answer.why.c_str()));
  }
  return r.endpoints;
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
    const std::string_view text = std::string_view(line).substr(start);
    if (auto literal = Endpoint::Parse(text); literal.ok()) {  // most lines: no allocation
      out.push_back(literal.value());
    } else {
      auto e = ParseEndpointArg(std::string(text));
      if (!e.ok()) {
        return Status::Error(
            Format(_("%s line %zu: %s"), path.c_str(), number, e.message().c_str()));
      }
      out.insert(out.end(), e.value().begin(), e.value().end());
    }
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
    for (size_t i = 0; i < n;) {
      const char* newline = static_cast<const char*>(std::memchr(buf + i, '\n', n - i));
      const size_t end = newline ? static_cast<size_t>(newline - buf) : n;
      line.append(buf + i, end - i);
      if (line.size() > kMaxEndpointLineBytes) {
        return Status::Error(Format(_("%s line %zu is longer than %zu bytes; nothing was engaged"),
                                    path.c_str(), number, kMaxEndpointLineBytes));
      }
      i = end;
      if (newline == nullptr) break;
      if (Status s = take_line(); !s.ok()) return s;
      line.clear();
      ++number;
      ++i;
    }
  }
  if (in.bad()) return Status::Error(Format(_("cannot read %s"), path.c_str()));
  if (Status s = take_line(); !s.ok()) return s;
  return out;
}

}  // namespace nmks::cli
