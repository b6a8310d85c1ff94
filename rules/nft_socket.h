// A netlink socket to nf_tables, and the batch format it speaks. One
// NftSocket is the identity the kernel ties an owned table to: as long as
// it stays open, only it can change a table it created with the OWNER flag.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "base/status.h"

struct mnl_socket;

namespace nmks {

// Messages of one nf_tables transaction, in the buffer they will be sent in.
class Batch {
 public:
  explicit Batch(uint32_t first_seq);
  // Starts a message of at most `max_len` bytes; fill its payload, then End().
  nlmsghdr* Begin(uint16_t type, uint16_t flags, size_t max_len = 64 * 1024);
  void End(nlmsghdr* message);
  // Closes the batch; no Begin() after this.
  void Finish();

  const char* data() const { return buf_.data(); }
  size_t size() const { return used_; }
  uint32_t first_seq() const { return first_seq_; }
  uint32_t next_seq() const { return seq_; }

 private:
  std::vector<char> buf_;
  size_t used_ = 0;
  uint32_t first_seq_;
  uint32_t seq_;
};

class NftSocket {
 public:
  // Opens a socket in the calling thread's network namespace.
  static Result<std::unique_ptr<NftSocket>> Open();
  // Takes over an open nf_tables netlink socket (one an earlier guard kept
  // alive through the service manager): the same socket, so the same owner
  // of its tables. Answers left unread by the earlier process are dropped.
  // Takes ownership of `fd`, also on failure.
  static Result<std::unique_ptr<NftSocket>> Adopt(int fd);
  ~NftSocket();
  NftSocket(const NftSocket&) = delete;
  NftSocket& operator=(const NftSocket&) = delete;

  uint32_t portid() const { return portid_; }
  int fd() const;
  uint32_t NextSeq() { return seq_++; }

  // Sends the batch; the kernel applies all of it or none of it. Ok only if
  // no message was refused. On failure, errno_out (if given) gets the errno.
  Status Send(const Batch& batch, int* errno_out = nullptr);

  // Sends a GET request (built by `build` into the header) and calls
  // `on_message` for each answer until the end of the dump or the ack.
  // On failure, errno_out (if given) gets the errno (ENOENT: no such object;
  // EINTR: the ruleset changed during a dump, whose answer is then
  // inconsistent: ask again). The socket is ready for the next request.
  Status Request(uint16_t type, uint16_t flags, const std::function<void(nlmsghdr*)>& build,
                 const std::function<int(const nlmsghdr*)>& on_message, int* errno_out = nullptr);

 private:
  NftSocket(mnl_socket* nl, uint32_t portid, uint32_t seq);
  Status GrowSendBuffer(size_t bytes);
  // True if the messages in data end the answer to request `seq`.
  static bool EndsAnswer(const char* data, size_t size, uint32_t seq);
  // Reads and drops the rest of the answer to request `seq`.
  void SkipAnswer(uint32_t seq);

  mnl_socket* nl_;
  std::vector<char> read_buffer_;  // one per socket: big, and reused
  uint32_t portid_;
  uint32_t seq_;
  size_t sndbuf_ = 0;
};

}  // namespace nmks
