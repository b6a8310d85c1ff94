#include "rules/nft_socket.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "base/i18n.h"

namespace nmks {
namespace {

constexpr int kReceiveBuffer = 8 * 1024 * 1024;
// Dumps come in messages as large as the largest read the socket has seen
// (the kernel caps them near 32 KiB); set elements are dumped by restarting
// a walk of the set for every message, so bigger messages make reading a
// big set back several times faster.
constexpr size_t kReadBuffer = 256 * 1024;

// How long to wait for the rest of an abandoned dump; the kernel sends it
// as fast as it is read, so this only bounds a socket that went wrong.
constexpr int kSkipWaitMs = 1000;

std::string ErrnoText(int err) { return std::strerror(err); }

void Configure(mnl_socket* nl) {
  int one = 1;
  // Error answers without a copy of the (possibly huge) refused message.
  mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one);
  int fd = mnl_socket_get_fd(nl);
  int rcv = kReceiveBuffer;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof rcv) < 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  }
}

}  // namespace

Batch::Batch(uint32_t first_seq) : first_seq_(first_seq), seq_(first_seq) {
  buf_.resize(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* begin = nftnl_batch_begin(buf_.data(), seq_++);
  used_ = NLMSG_ALIGN(begin->nlmsg_len);
}

nlmsghdr* Batch::Begin(uint16_t type, uint16_t flags, size_t max_len) {
  if (buf_.size() < used_ + max_len) buf_.resize((used_ + max_len) * 2);
  return nftnl_nlmsg_build_hdr(buf_.data() + used_, type, NFPROTO_INET, flags, seq_++);
}

void Batch::End(nlmsghdr* message) { used_ += NLMSG_ALIGN(message->nlmsg_len); }

void Batch::Finish() {
  if (buf_.size() < used_ + MNL_SOCKET_BUFFER_SIZE) buf_.resize(used_ + MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* end = nftnl_batch_end(buf_.data() + used_, seq_++);
  used_ += NLMSG_ALIGN(end->nlmsg_len);
}

Result<std::unique_ptr<NftSocket>> NftSocket::Open() {
  mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (nl == nullptr) {
    return Status::Error(
        Format(_("cannot open a netlink socket to nftables: %s"), ErrnoText(errno).c_str()));
  }
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(nl);
    return Status::Error(
        Format(_("cannot bind a netlink socket to nftables: %s"), ErrnoText(err).c_str()));
  }
  Configure(nl);
  return std::unique_ptr<NftSocket>(
      new NftSocket(nl, mnl_socket_get_portid(nl), static_cast<uint32_t>(time(nullptr))));
}

Result<std::unique_ptr<NftSocket>> NftSocket::Adopt(int fd) {
  int domain = 0, protocol = 0;
  socklen_t len = sizeof domain;
  bool netlink = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_NETLINK;
  len = sizeof protocol;
  netlink = netlink && getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len) == 0 &&
            protocol == NETLINK_NETFILTER;
  if (!netlink) {
    close(fd);
    return Status::Error(_("the kept socket is not a netlink socket to nftables"));
  }
  mnl_socket* nl = mnl_socket_fdopen(fd);
  if (nl == nullptr) {
    int err = errno;
    close(fd);
    return Status::Error(
        Format(_("cannot take over the kept netlink socket: %s"), ErrnoText(err).c_str()));
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  Configure(nl);
  std::vector<char> stale(64 * 1024);
  while (recv(fd, stale.data(), stale.size(), MSG_DONTWAIT) > 0) {
  }
  return std::unique_ptr<NftSocket>(
      new NftSocket(nl, mnl_socket_get_portid(nl), static_cast<uint32_t>(time(nullptr))));
}

int NftSocket::fd() const { return mnl_socket_get_fd(nl_); }

NftSocket::NftSocket(mnl_socket* nl, uint32_t portid, uint32_t seq)
    : nl_(nl), read_buffer_(kReadBuffer), portid_(portid), seq_(seq) {}

NftSocket::~NftSocket() { mnl_socket_close(nl_); }

Status NftSocket::GrowSendBuffer(size_t bytes) {
  if (bytes + 64 <= sndbuf_) return Status::Ok();
  int size = static_cast<int>(bytes + 4096);
  int fd = mnl_socket_get_fd(nl_);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0 &&
      setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size) < 0) {
    return Status::Error(
        Format(_("cannot size the netlink send buffer: %s"), ErrnoText(errno).c_str()));
  }
  sndbuf_ = static_cast<size_t>(size);
  return Status::Ok();
}

Status NftSocket::Send(const Batch& batch, int* errno_out) {
  if (Status s = GrowSendBuffer(batch.size()); !s.ok()) return s;
  if (mnl_socket_sendto(nl_, batch.data(), batch.size()) < 0) {
    int err = errno;
    if (errno_out) *errno_out = err;
    return Status::Error(
        Format(_("the kernel did not take the nftables batch: %s"), ErrnoText(err).c_str()));
  }
  // nfnetlink handles the whole batch inside sendto(), so every answer is
  // already queued: read until nothing is left.
  std::vector<char>& buf = read_buffer_;
  int first_error = 0;
  for (;;) {
    ssize_t n = recv(mnl_socket_get_fd(nl_), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      if (first_error == 0) first_error = errno;  // ENOBUFS: answers lost
      break;
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
        if (e->error != 0 && first_error == 0) first_error = -e->error;
      }
    }
  }
  if (first_error != 0) {
    if (errno_out) *errno_out = first_error;
    return Status::Error(
        Format(_("the kernel refused the nftables change: %s"), ErrnoText(first_error).c_str()));
  }
  return Status::Ok();
}

Status NftSocket::Request(uint16_t type, uint16_t flags,
                          const std::function<void(nlmsghdr*)>& build,
                          const std::function<int(const nlmsghdr*)>& on_message, int* errno_out) {
  std::vector<char>& buf = read_buffer_;
  uint32_t seq = NextSeq();
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), type, NFPROTO_INET, flags, seq);
  if (build) build(nlh);
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) {
    if (errno_out) *errno_out = errno;
    return Status::Error(
        Format(_("cannot ask nftables for the table: %s"), ErrnoText(errno).c_str()));
  }
  struct Ctx {
    const std::function<int(const nlmsghdr*)>* fn;
  } ctx{&on_message};
  auto trampoline = [](const nlmsghdr* m, void* data) -> int {
    return (*static_cast<Ctx*>(data)->fn)(m);
  };
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    int ret =
        n < 0 ? -1 : mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid_, trampoline, &ctx);
    if (ret == MNL_CB_STOP) return Status::Ok();
    if (ret < 0) {
      int err = errno;
      // A dump given up in the middle (a callback's error, or EINTR: the
      // ruleset changed while it was dumped) still has messages coming;
      // the next request must not read them as its own.
      if (n > 0 && !EndsAnswer(buf.data(), static_cast<size_t>(n), seq)) SkipAnswer(seq);
      if (errno_out) *errno_out = err;
      return Status::Error(
          Format(_("cannot read the table from nftables: %s"), ErrnoText(err).c_str()));
    }
  }
}

bool NftSocket::EndsAnswer(const char* data, size_t size, uint32_t seq) {
  int len = static_cast<int>(size);
  for (auto* nlh = reinterpret_cast<const nlmsghdr*>(data); mnl_nlmsg_ok(nlh, len);
       nlh = mnl_nlmsg_next(nlh, &len)) {
    if (nlh->nlmsg_seq == seq && (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR))
      return true;
  }
  return false;
}

void NftSocket::SkipAnswer(uint32_t seq) {
  std::vector<char>& buf = read_buffer_;
  const int fd = mnl_socket_get_fd(nl_);
  for (;;) {
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, kSkipWaitMs) <= 0) return;  // nothing more comes
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    if (EndsAnswer(buf.data(), static_cast<size_t>(n), seq)) return;
  }
}

}  // namespace nmks
