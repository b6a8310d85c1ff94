#include "tests/world/tally.h"

#include <libmnl/libmnl.h>
#include <libnftnl/object.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace nmks::world {
namespace {

constexpr auto kSettle = std::chrono::milliseconds(100);
constexpr char kCounter[] = "seen";

struct MnlClose {
  void operator()(mnl_socket* s) const { mnl_socket_close(s); }
};
struct ObjFree {
  void operator()(nftnl_obj* o) const { nftnl_obj_free(o); }
};

// Reads a named nftables counter with one netlink request, in the calling
// thread's namespace: no nft process per read, independent of the engine.
uint64_t ReadCounter(const std::string& table) {
  std::unique_ptr<mnl_socket, MnlClose> nl(mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC));
  if (!nl || mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    throw std::runtime_error("cannot open a netlink socket to read a tally");
  }
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  const uint32_t seq = 1;
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_GETOBJ, NFPROTO_INET, NLM_F_ACK, seq);
  std::unique_ptr<nftnl_obj, ObjFree> query(nftnl_obj_alloc());
  nftnl_obj_set_str(query.get(), NFTNL_OBJ_TABLE, table.c_str());
  nftnl_obj_set_str(query.get(), NFTNL_OBJ_NAME, kCounter);
  nftnl_obj_set_u32(query.get(), NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
  nftnl_obj_nlmsg_build_payload(nlh, query.get());
  if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) {
    throw std::runtime_error("cannot ask for tally " + table);
  }
  struct Answer {
    bool found = false;
    uint64_t packets = 0;
  } answer;
  auto parse = [](const nlmsghdr* m, void* data) -> int {
    std::unique_ptr<nftnl_obj, ObjFree> obj(nftnl_obj_alloc());
    if (nftnl_obj_nlmsg_parse(m, obj.get()) < 0) return MNL_CB_ERROR;
    auto* a = static_cast<Answer*>(data);
    a->found = true;
    a->packets = nftnl_obj_get_u64(obj.get(), NFTNL_OBJ_CTR_PKTS);
    return MNL_CB_OK;
  };
  const uint32_t portid = mnl_socket_get_portid(nl.get());
  int ret = MNL_CB_OK;
  while (ret > MNL_CB_STOP) {
    ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
    if (n < 0) break;
    ret = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid, parse, &answer);
  }
  if (ret < 0 || !answer.found) throw std::runtime_error("cannot read tally " + table);
  return answer.packets;
}

}  // namespace

Tally::Tally(const Netns& ns, const std::string& match) : ns_(ns) {
  static std::atomic<int> counter{0};
  table_ = "tally" + std::to_string(++counter);
  ns_.Must("nft -f -", "table inet " + table_ + " {\n" + "  counter " + kCounter + " {}\n" +
                           "  chain prerouting {\n"
                           "    type filter hook prerouting priority -300; policy accept;\n"
                           "    " +
                           match + " counter name " + kCounter + "\n" +
                           "  }\n"
                           "}\n");
}

Tally::~Tally() { ns_.Run({"nft", "delete", "table", "inet", table_}); }

uint64_t Tally::Now() const {
  NetnsScope in(ns_);
  return ReadCounter(table_);
}

uint64_t Tally::Await(uint64_t expected, std::chrono::milliseconds wait) const {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (expected > 0 && Now() < expected && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(kSettle);
  return Now();
}

}  // namespace nmks::world
