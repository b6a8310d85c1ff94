#include "service/network_watch.h"

#include <glib-unix.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>
#include <vector>

#include "base/i18n.h"

namespace nmks::wg {
namespace {

constexpr unsigned kGroups =
    RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;

// The interface a message is about, or 0.
int MessageIfindex(const nlmsghdr* nlh) {
  switch (nlh->nlmsg_type) {
    case RTM_NEWLINK:
    case RTM_DELLINK:
      return static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh))->ifi_index;
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return static_cast<int>(static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh))->ifa_index);
    case RTM_NEWROUTE:
    case RTM_DELROUTE: {
      int oif = 0;
      mnl_attr_parse(
          nlh, sizeof(rtmsg),
          [](const nlattr* a, void* out) -> int {
            if (mnl_attr_get_type(a) == RTA_OIF) {
              *static_cast<int*>(out) = static_cast<int>(mnl_attr_get_u32(a));
            }
            return MNL_CB_OK;
          },
          &oif);
      return oif;
    }
    default:
      return -1;  // not about the network
  }
}

}  // namespace

Result<std::unique_ptr<NetworkWatch>> NetworkWatch::Start(std::string tunnel, Changed changed,
                                                          int settle_ms) {
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (nl == nullptr || mnl_socket_bind(nl, kGroups, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    if (nl) mnl_socket_close(nl);
    return Status::Error(Format(_("cannot watch network changes: %s"), strerror(err)));
  }
  std::unique_ptr<NetworkWatch> w(
      new NetworkWatch(nl, std::move(tunnel), std::move(changed), settle_ms));
  w->io_source_ = g_unix_fd_add(mnl_socket_get_fd(nl), G_IO_IN, OnReadable, w.get());
  return w;
}

NetworkWatch::NetworkWatch(mnl_socket* nl, std::string tunnel, Changed changed, int settle_ms)
    : nl_(nl), tunnel_(std::move(tunnel)), changed_(std::move(changed)), settle_ms_(settle_ms) {}

NetworkWatch::~NetworkWatch() {
  if (io_source_) g_source_remove(io_source_);
  if (settle_source_) g_source_remove(settle_source_);
  mnl_socket_close(nl_);
}

gboolean NetworkWatch::OnReadable(gint fd, GIOCondition, gpointer self) {
  auto* w = static_cast<NetworkWatch*>(self);
  const int tunnel_index = static_cast<int>(if_nametoindex(w->tunnel_.c_str()));
  bool relevant = false;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) relevant = true;  // lost notifications: assume a change
      break;
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      int index = MessageIfindex(nlh);
      if (index < 0) continue;
      if (index != 0 && index == tunnel_index) continue;
      relevant = true;
    }
  }
  if (relevant && w->settle_source_ == 0) {
    w->settle_source_ = g_timeout_add(static_cast<guint>(w->settle_ms_), OnSettled, w);
  }
  return G_SOURCE_CONTINUE;
}

gboolean NetworkWatch::OnSettled(gpointer self) {
  auto* w = static_cast<NetworkWatch*>(self);
  w->settle_source_ = 0;
  w->changed_();
  return G_SOURCE_REMOVE;
}

}  // namespace nmks::wg
