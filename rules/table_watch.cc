#include "rules/table_watch.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "base/i18n.h"
#include "rules/ruleset.h"

namespace nmks {
namespace {

// Attribute `type` of an nf_tables message, or null.
const nlattr* Attribute(const nlmsghdr* message, uint16_t type) {
  if (message->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) return nullptr;
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(message));
  for (auto* attr =
           static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, sizeof(nfgenmsg)));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) == type) return attr;
  }
  return nullptr;
}

// Every nf_tables notification but NEWGEN names its table in attribute 1
// (NFTA_TABLE_NAME, NFTA_CHAIN_TABLE, NFTA_RULE_TABLE, NFTA_SET_TABLE,
// NFTA_SET_ELEM_LIST_TABLE, NFTA_OBJ_TABLE, NFTA_FLOWTABLE_TABLE). True
// unless it names a table that is not ours (in any family): one we cannot
// read counts as ours.
bool NamesOurTable(const nlmsghdr* message) {
  static_assert(NFTA_TABLE_NAME == 1 && NFTA_CHAIN_TABLE == 1 && NFTA_RULE_TABLE == 1 &&
                NFTA_SET_TABLE == 1 && NFTA_SET_ELEM_LIST_TABLE == 1 && NFTA_OBJ_TABLE == 1 &&
                NFTA_FLOWTABLE_TABLE == 1);
  const nlattr* name = Attribute(message, 1);
  if (name == nullptr || mnl_attr_validate(name, MNL_TYPE_NUL_STRING) < 0) return true;
  const char* table = mnl_attr_get_str(name);
  return std::strcmp(table, kTableName) == 0 || std::strcmp(table, kTwinTableName) == 0;
}

// NFTA_GEN_ID of a NEWGEN notification.
bool GenerationOf(const nlmsghdr* message, uint32_t* id) {
  const nlattr* attr = Attribute(message, NFTA_GEN_ID);
  if (attr == nullptr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0) return false;
  *id = ntohl(mnl_attr_get_u32(attr));
  return true;
}

// a is not later than b, over the generation counter's wrap.
bool NotAfter(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }

}  // namespace

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
        lost_ = true;
        touching_ = false;
        continue;
      }
      break;  // EAGAIN: nothing more
    }
    int len = static_cast<int>(n);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES) continue;
      // A commit's notifications end with NEWGEN, sent by every commit.
      if (NFNL_MSG_TYPE(nlh->nlmsg_type) == NFT_MSG_NEWGEN) {
        uint32_t id = 0;
        if (!GenerationOf(nlh, &id)) {
          lost_ = true;
          foreign = true;
          continue;
        }
        any_generation_ = true;
        generation_ = id;
        if (touching_) {
          touched_ = true;
          touched_generation_ = id;
          touching_ = false;
        }
        continue;
      }
      if (nlh->nlmsg_pid != own_portid && NamesOurTable(nlh)) {
        foreign = true;
        touching_ = true;
      }
    }
  }
  return foreign;
}

bool TableWatch::UntouchedBetween(uint32_t since, uint32_t now) const {
  if (lost_ || touching_ || !any_generation_ || generation_ != now) return false;
  return !touched_ || NotAfter(touched_generation_, since);
}

}  // namespace nmks
