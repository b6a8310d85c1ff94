#include "rules/table_watch.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "rules/i18n.h"

namespace nmks {

Result<std::unique_ptr<TableWatch>> TableWatch::Open() {
  mnl_socket* nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (nl == nullptr || mnl_socket_bind(nl, 1u << (NFNLGRP_NFTABLES - 1), MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    if (nl) mnl_socket_close(nl);
    return Status::Error(Format(_("cannot listen to nftables changes: %s"), std::strerror(err)));
  }
  int size = 4 * 1024 * 1024;
  setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  return std::unique_ptr<TableWatch>(new TableWatch(nl));
}

TableWatch::~TableWatch() { mnl_socket_close(nl_); }

int TableWatch::fd() const { return mnl_socket_get_fd(nl_); }

bool TableWatch::DrainForeignChanges(uint32_t own_portid) {
  bool foreign = false;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    ssize_t n = recv(fd(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {  // notifications were dropped: assume the worst
        foreign = true;
        continue;
      }
      break;  // EAGAIN: nothing more
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_pid != own_portid) foreign = true;
    }
  }
  return foreign;
}

}  // namespace nmks
