// The nftables bytecode of one rule, as plain values. The table builder
// writes rules in this form, the netlink encoder turns them into libnftnl
// expressions, and the reader decodes what the kernel holds back into the
// same form, so "what we meant" and "what the kernel has" compare with ==.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace nmks {

using Bytes = std::vector<uint8_t>;

struct MetaLoad {
  uint32_t key = 0;  // NFT_META_*
  uint32_t dreg = 0;
  bool operator==(const MetaLoad&) const = default;
};
struct PayloadLoad {
  uint32_t base = 0;  // NFT_PAYLOAD_*_HEADER
  uint32_t offset = 0;
  uint32_t len = 0;
  uint32_t dreg = 0;
  bool operator==(const PayloadLoad&) const = default;
};
struct Bitwise {  // dreg = (sreg & mask) ^ xor_value
  uint32_t sreg = 0;
  uint32_t dreg = 0;
  uint32_t len = 0;
  Bytes mask;
  Bytes xor_value;
  bool operator==(const Bitwise&) const = default;
};
struct Cmp {
  uint32_t sreg = 0;
  uint32_t op = 0;  // NFT_CMP_*
  Bytes data;
  bool operator==(const Cmp&) const = default;
};
struct Lookup {
  uint32_t sreg = 0;
  std::string set;
  bool operator==(const Lookup&) const = default;
};
struct CtLoad {
  uint32_t key = 0;  // NFT_CT_*
  uint32_t dreg = 0;
  bool operator==(const CtLoad&) const = default;
};
struct Fib {
  uint32_t flags = 0;   // NFTA_FIB_F_*
  uint32_t result = 0;  // NFT_FIB_RESULT_*
  uint32_t dreg = 0;
  bool operator==(const Fib&) const = default;
};
struct Counter {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  bool operator==(const Counter&) const = default;
};
struct Verdict {
  int32_t code = 0;  // NF_ACCEPT, NF_DROP
  bool operator==(const Verdict&) const = default;
};
struct Reject {
  uint32_t type = 0;  // NFT_REJECT_*
  uint8_t code = 0;
  bool operator==(const Reject&) const = default;
};

using Insn = std::variant<MetaLoad, PayloadLoad, Bitwise, Cmp, Lookup, CtLoad, Fib, Counter,
                          Verdict, Reject>;

// A one-line description in the style of `nft --debug=netlink`, for messages
// that show where the kernel's table differs from the one we meant.
std::string Describe(const Insn& insn);

}  // namespace nmks
