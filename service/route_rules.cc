#include "service/route_rules.h"

#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <vector>

#include "base/i18n.h"

namespace nmks::wg {
namespace {

// Just before the main table's rule (32766), after anything an
// administrator usually adds.
constexpr uint32_t kSuppressPriority = 32700;
constexpr uint32_t kRefusePriority = 32701;

int Talk(nlmsghdr* nlh) {
  mnl_socket* nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (nl == nullptr) return errno;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(nl);
    return err;
  }
  int err = 0;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
    err = errno;
  } else {
    std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
    ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) {
      err = errno;
    } else if (mnl_cb_run(buf.data(), static_cast<size_t>(n), nlh->nlmsg_seq,
                          mnl_socket_get_portid(nl), nullptr, nullptr) < 0) {
      err = errno;
    }
  }
  mnl_socket_close(nl);
  return err;
}

int AddRule(int family, uint32_t mark, uint32_t group, bool refuse) {
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWRULE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
  nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
  auto* frh = static_cast<fib_rule_hdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(fib_rule_hdr)));
  frh->family = static_cast<uint8_t>(family);
  frh->table = refuse ? RT_TABLE_UNSPEC : RT_TABLE_MAIN;
  frh->action = refuse ? FR_ACT_UNREACHABLE : FR_ACT_TO_TBL;
  mnl_attr_put_u32(nlh, FRA_PRIORITY, refuse ? kRefusePriority : kSuppressPriority);
  mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
  mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffff);
  if (!refuse) mnl_attr_put_u32(nlh, FRA_SUPPRESS_IFGROUP, group);
  int err = Talk(nlh);
  return err == EEXIST ? 0 : err;
}

}  // namespace

Status JoinTunnelGroup(const std::string& ifname, uint32_t group) {
  unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) {
    return Status::Error(Format(_("interface %s is gone"), ifname.c_str()));
  }
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = static_cast<int>(index);
  mnl_attr_put_u32(nlh, IFLA_GROUP, group);
  if (int err = Talk(nlh); err != 0) {
    return Status::Error(
        Format(_("cannot put %s into the tunnel group: %s"), ifname.c_str(), strerror(err)));
  }
  return Status::Ok();
}

Status EnsureMarkRules(uint32_t mark, uint32_t group) {
  for (int family : {AF_INET, AF_INET6}) {
    for (bool refuse : {false, true}) {
      if (int err = AddRule(family, mark, group, refuse); err != 0) {
        return Status::Error(Format(
            _("cannot add the routing rule for the tunnel's own packets: %s"), strerror(err)));
      }
    }
  }
  return Status::Ok();
}

}  // namespace nmks::wg
