#include "service/kernel_tunnel.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/wireguard.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include <cerrno>
#include <memory>

#include "base/i18n.h"

namespace nmks::wg {
namespace {

struct MnlClose {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
using MnlSocket = std::unique_ptr<mnl_socket, MnlClose>;

Result<MnlSocket> OpenSocket(int bus) {
  MnlSocket nl(mnl_socket_open2(bus, SOCK_CLOEXEC));
  if (!nl || mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return Status::Error(Format(_("cannot open a netlink socket: %s"), strerror(errno)));
  }
  return nl;
}

// Sends one request and waits for its acknowledgement; returns the errno.
int Talk(mnl_socket* nl, nlmsghdr* nlh, mnl_cb_t cb = nullptr, void* data = nullptr) {
  uint32_t portid = mnl_socket_get_portid(nl);
  uint32_t seq = nlh->nlmsg_seq;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return errno;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl, buf.data(), buf.size());
    if (n < 0) return errno;
    int ret = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, cb, data);
    if (ret == MNL_CB_STOP) return 0;
    if (ret < 0) return errno;
  }
}

// One message being filled; knows how much room is left.
class Builder {
 public:
  Builder(uint16_t family_id, uint32_t seq, size_t max) : buf_(max), max_(max) {
    nlh_ = mnl_nlmsg_put_header(buf_.data());
    nlh_->nlmsg_type = family_id;
    nlh_->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh_->nlmsg_seq = seq;
    auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(genlmsghdr)));
    g->cmd = WG_CMD_SET_DEVICE;
    g->version = WG_GENL_VERSION;
  }
  nlmsghdr* nlh() { return nlh_; }
  bool Room(size_t bytes) const { return nlh_->nlmsg_len + bytes + 64 <= max_; }
  Message Take() {
    buf_.resize(nlh_->nlmsg_len);
    return std::move(buf_);
  }

 private:
  Message buf_;
  size_t max_;
  nlmsghdr* nlh_;
};

size_t PeerHeaderBytes(const PeerConfig& p) {
  return 4 + MNL_ALIGN(4 + 32) + MNL_ALIGN(4 + 4) + MNL_ALIGN(4 + 32) +
         MNL_ALIGN(4 + sizeof(sockaddr_in6)) + MNL_ALIGN(4 + 2) + 4 * (p.endpoint ? 1 : 0);
}
constexpr size_t kAllowedIpBytes = 4 + MNL_ALIGN(4 + 2) + MNL_ALIGN(4 + 16) + MNL_ALIGN(4 + 1);

void PutEndpoint(nlmsghdr* nlh, const PeerEndpoint& e) {
  if (e.address.family == Address::Family::kIpv4) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(e.port);
    memcpy(&sa.sin_addr, e.address.bytes.data(), 4);
    mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof sa, &sa);
  } else {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(e.port);
    memcpy(&sa.sin6_addr, e.address.bytes.data(), 16);
    mnl_attr_put(nlh, WGPEER_A_ENDPOINT, sizeof sa, &sa);
  }
}

// Writes WG_CMD_SET_DEVICE messages, starting a new one when the next part
// would not fit (see EncodeSetDevice).
class SetDeviceWriter {
 public:
  SetDeviceWriter(const DeviceConfig& c, uint16_t family_id, uint32_t seq, bool endpoints_only,
                  size_t max_message_bytes)
      : c_(c),
        family_id_(family_id),
        seq_(seq),
        endpoints_only_(endpoints_only),
        max_(max_message_bytes) {
    Start(true);
  }

  // The peer, split over as many messages as its allowed IPs need.
  void AddPeer(const PeerConfig& p) {
    if (!b_->Room(PeerHeaderBytes(p) + kAllowedIpBytes)) Flush();
    size_t next_ip = 0;
    PutPeerPart(p, true, &next_ip);
    while (!endpoints_only_ && next_ip < p.allowed_ips.size()) {
      Flush();
      PutPeerPart(p, false, &next_ip);
    }
  }

  std::vector<Message> Finish() {
    mnl_attr_nest_end(b_->nlh(), peers_);
    out_.push_back(b_->Take());
    return std::move(out_);
  }

 private:
  // A message with the interface's name; the first one of a full
  // configuration also replaces the peers and sets the device's own keys.
  void Start(bool first) {
    b_ = std::make_unique<Builder>(family_id_, seq_++, max_);
    mnl_attr_put_strz(b_->nlh(), WGDEVICE_A_IFNAME, c_.ifname.c_str());
    if (first && !endpoints_only_) {
      mnl_attr_put_u32(b_->nlh(), WGDEVICE_A_FLAGS, WGDEVICE_F_REPLACE_PEERS);
      mnl_attr_put(b_->nlh(), WGDEVICE_A_PRIVATE_KEY, 32, c_.private_key.bytes.data());
      mnl_attr_put_u16(b_->nlh(), WGDEVICE_A_LISTEN_PORT, c_.listen_port.value_or(0));
      mnl_attr_put_u32(b_->nlh(), WGDEVICE_A_FWMARK, c_.fwmark);
    }
    peers_ = mnl_attr_nest_start(b_->nlh(), WGDEVICE_A_PEERS);
  }

  void Flush() {
    mnl_attr_nest_end(b_->nlh(), peers_);
    out_.push_back(b_->Take());
    Start(false);
  }

  // One part of a peer: its key and flags; in the first part its endpoint,
  // preshared key and keepalive; then as many allowed IPs from *next_ip on
  // as fit.
  void PutPeerPart(const PeerConfig& p, bool first_part, size_t* next_ip) {
    nlmsghdr* nlh = b_->nlh();
    nlattr* peer = mnl_attr_nest_start(nlh, 0);
    mnl_attr_put(nlh, WGPEER_A_PUBLIC_KEY, 32, p.public_key.data());
    uint32_t flags = 0;
    if (endpoints_only_) flags |= WGPEER_F_UPDATE_ONLY;
    if (!endpoints_only_ && first_part) flags |= WGPEER_F_REPLACE_ALLOWEDIPS;
    mnl_attr_put_u32(nlh, WGPEER_A_FLAGS, flags);
    if (first_part) {
      if (p.endpoint) PutEndpoint(nlh, *p.endpoint);
      if (!endpoints_only_) {
        if (p.preshared_key) {
          mnl_attr_put(nlh, WGPEER_A_PRESHARED_KEY, 32, p.preshared_key->bytes.data());
        }
        mnl_attr_put_u16(nlh, WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL, p.persistent_keepalive);
      }
    }
    if (!endpoints_only_ && *next_ip < p.allowed_ips.size()) PutAllowedIps(p, next_ip);
    mnl_attr_nest_end(nlh, peer);
  }

  void PutAllowedIps(const PeerConfig& p, size_t* next_ip) {
    nlmsghdr* nlh = b_->nlh();
    nlattr* ips = mnl_attr_nest_start(nlh, WGPEER_A_ALLOWEDIPS);
    while (*next_ip < p.allowed_ips.size() && b_->Room(kAllowedIpBytes + 16)) {
      const AllowedIp& a = p.allowed_ips[(*next_ip)++];
      nlattr* ip = mnl_attr_nest_start(nlh, 0);
      bool v4 = a.address.family == Address::Family::kIpv4;
      mnl_attr_put_u16(nlh, WGALLOWEDIP_A_FAMILY, v4 ? AF_INET : AF_INET6);
      mnl_attr_put(nlh, WGALLOWEDIP_A_IPADDR, v4 ? 4 : 16, a.address.bytes.data());
      mnl_attr_put_u8(nlh, WGALLOWEDIP_A_CIDR_MASK, a.prefix);
      mnl_attr_nest_end(nlh, ip);
    }
    mnl_attr_nest_end(nlh, ips);
  }

  const DeviceConfig& c_;
  uint16_t family_id_;
  uint32_t seq_;
  bool endpoints_only_;
  size_t max_;
  std::vector<Message> out_;
  std::unique_ptr<Builder> b_;
  nlattr* peers_ = nullptr;
};

}  // namespace

std::vector<Message> EncodeSetDevice(const DeviceConfig& c, uint16_t family_id, uint32_t seq,
                                     bool endpoints_only, size_t max_message_bytes) {
  SetDeviceWriter writer(c, family_id, seq, endpoints_only, max_message_bytes);
  for (const PeerConfig& p : c.peers) {
    if (endpoints_only && !p.endpoint) continue;
    writer.AddPeer(p);
  }
  return writer.Finish();
}

Status KernelTunnel::CreateLink(const std::string& ifname, int* errno_out) {
  auto nl = OpenSocket(NETLINK_ROUTE);
  if (!nl.ok()) return nl.status();
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_NEWLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
  nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname.c_str());
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "wireguard");
  mnl_attr_nest_end(nlh, info);
  int err = Talk(nl.value().get(), nlh);
  if (errno_out) *errno_out = err;
  if (err != 0 && err != EEXIST) {
    return Status::Error(
        Format(_("cannot create the WireGuard interface %s: %s"), ifname.c_str(), strerror(err)));
  }
  return Status::Ok();
}

KernelTunnel::~KernelTunnel() { Remove(); }

Status KernelTunnel::Send(bool endpoints_only) {
  auto nl = OpenSocket(NETLINK_GENERIC);
  if (!nl.ok()) return nl.status();
  // Resolve the family id of "wireguard".
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = GENL_ID_CTRL;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
  auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  g->cmd = CTRL_CMD_GETFAMILY;
  g->version = 1;
  mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, WG_GENL_NAME);
  uint16_t family = 0;
  auto cb = [](const nlmsghdr* m, void* data) -> int {
    return mnl_attr_parse(
        m, sizeof(genlmsghdr),
        [](const nlattr* a, void* out) -> int {
          if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) {
            *static_cast<uint16_t*>(out) = mnl_attr_get_u16(a);
          }
          return MNL_CB_OK;
        },
        data);
  };
  int err = Talk(nl.value().get(), nlh, cb, &family);
  if (err != 0 || family == 0) {
    return Status::Error(Format(_("the kernel's WireGuard is not available: %s"), strerror(err)));
  }
  for (Message& m : EncodeSetDevice(config_, family, nlh->nlmsg_seq + 1, endpoints_only)) {
    err = Talk(nl.value().get(), reinterpret_cast<nlmsghdr*>(m.data()));
    explicit_bzero(m.data(), m.size());
    if (err != 0) {
      return Status::Error(Format(_("the kernel refused the WireGuard configuration of %s: %s"),
                                  config_.ifname.c_str(), strerror(err)));
    }
  }
  return Status::Ok();
}

Status KernelTunnel::Configure(const DeviceConfig& config) {
  config_ = config;
  if (!created_) {
    int err = 0;
    if (Status s = CreateLink(config_.ifname, &err); !s.ok()) return s;
    created_ = true;
  }
  return Send(false);
}

Status KernelTunnel::RefreshEndpoints() { return created_ ? Send(true) : Status::Ok(); }

void KernelTunnel::Remove() {
  if (!created_) return;
  created_ = false;
  auto nl = OpenSocket(NETLINK_ROUTE);
  if (!nl.ok()) return;
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_DELLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = static_cast<uint32_t>(time(nullptr));
  auto* ifm = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifm->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, config_.ifname.c_str());
  if (int err = Talk(nl.value().get(), nlh); err != 0 && log_) {
    log_(Format(_("cannot remove %s: %s"), config_.ifname.c_str(), strerror(err)));
  }
}

}  // namespace nmks::wg
