#include "service/uapi.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "base/i18n.h"

namespace nmks::wg {
namespace {

std::string Hex(const Key& key) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (uint8_t b : key) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

std::string EndpointText(const PeerEndpoint& e) {
  std::string host = e.address.ToString();
  if (e.address.family == Address::Family::kIpv6) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port);
}

// Wipes a string holding key material before it is freed.
struct Wiped {
  std::string text;
  ~Wiped() { explicit_bzero(text.data(), text.size()); }
};

Result<std::string> Request(const std::string& path, const std::string& request, int timeout_ms) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Error(Format(_("cannot talk to wireguard-go: %s"), strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    close(fd);
    return Status::Error(_("the path of wireguard-go's socket is too long"));
  }
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    close(fd);
    return Status::Error(
        Format(_("cannot reach wireguard-go's socket %s: %s"), path.c_str(), strerror(err)));
  }
  size_t sent = 0;
  while (sent < request.size()) {
    ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      close(fd);
      return Status::Error(Format(_("cannot send to wireguard-go: %s"), strerror(err)));
    }
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buf[4096];
  for (;;) {
    // The reply ends with "errno=N\n\n".
    size_t end = reply.find("\n\n");
    if (end != std::string::npos && reply.rfind("errno=", end) != std::string::npos) break;
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, timeout_ms);
    if (ready <= 0) {
      close(fd);
      return Status::Error(_("wireguard-go did not answer"));
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  size_t at = reply.rfind("errno=");
  if (at == std::string::npos) {
    return Status::Error(_("wireguard-go closed the connection without an answer"));
  }
  int err = atoi(reply.c_str() + at + 6);
  if (err != 0) {
    return Status::Error(Format(_("wireguard-go refused the configuration (errno %d)"), err));
  }
  return reply.substr(0, at);
}

}  // namespace

SecretKey::~SecretKey() { explicit_bzero(bytes.data(), bytes.size()); }

std::string EncodeSet(const DeviceConfig& c) {
  std::string out;
  out += "private_key=" + Hex(c.private_key.bytes) + "\n";
  out += "listen_port=" + std::to_string(c.listen_port.value_or(0)) + "\n";
  out += "fwmark=" + std::to_string(c.fwmark) + "\n";  // decimal: 0x... is refused
  out += "replace_peers=true\n";
  for (const PeerConfig& p : c.peers) {
    out += "public_key=" + Hex(p.public_key) + "\n";
    if (p.preshared_key) out += "preshared_key=" + Hex(p.preshared_key->bytes) + "\n";
    if (p.endpoint) out += "endpoint=" + EndpointText(*p.endpoint) + "\n";
    out += "persistent_keepalive_interval=" + std::to_string(p.persistent_keepalive) + "\n";
    out += "replace_allowed_ips=true\n";
    for (const AllowedIp& a : p.allowed_ips) {
      out += "allowed_ip=" + a.address.ToString() + "/" + std::to_string(a.prefix) + "\n";
    }
  }
  return out;
}

std::string EncodeEndpointRefresh(const DeviceConfig& c) {
  std::string out;
  for (const PeerConfig& p : c.peers) {
    if (!p.endpoint) continue;
    out += "public_key=" + Hex(p.public_key) + "\n";
    out += "update_only=true\n";
    out += "endpoint=" + EndpointText(*p.endpoint) + "\n";
  }
  return out;
}

Status UapiSet(const std::string& socket_path, const std::string& body, int timeout_ms) {
  if (body.empty()) return Status::Ok();
  Wiped request{"set=1\n" + body + "\n"};
  auto reply = Request(socket_path, request.text, timeout_ms);
  return reply.status();
}

Result<std::string> UapiGet(const std::string& socket_path, int timeout_ms) {
  return Request(socket_path, "get=1\n\n", timeout_ms);
}

}  // namespace nmks::wg
