#include "rules/insn.h"

#include <cstdio>

namespace nmks {
namespace {

std::string Hex(const Bytes& bytes) {
  std::string out;
  char buf[4];
  for (uint8_t b : bytes) {
    std::snprintf(buf, sizeof buf, "%02x", b);
    out += buf;
  }
  return out;
}

struct Describer {
  std::string operator()(const MetaLoad& i) const {
    return "meta load " + std::to_string(i.key) + " => reg " + std::to_string(i.dreg);
  }
  std::string operator()(const PayloadLoad& i) const {
    return "payload load " + std::to_string(i.len) + "b @ base " + std::to_string(i.base) + " + " +
           std::to_string(i.offset) + " => reg " + std::to_string(i.dreg);
  }
  std::string operator()(const Bitwise& i) const {
    return "bitwise reg " + std::to_string(i.dreg) + " = (reg " + std::to_string(i.sreg) + " & " +
           Hex(i.mask) + ") ^ " + Hex(i.xor_value);
  }
  std::string operator()(const Cmp& i) const {
    return "cmp op " + std::to_string(i.op) + " reg " + std::to_string(i.sreg) + " " + Hex(i.data);
  }
  std::string operator()(const Lookup& i) const {
    return "lookup reg " + std::to_string(i.sreg) + " set " + i.set;
  }
  std::string operator()(const CtLoad& i) const {
    return "ct load " + std::to_string(i.key) + " => reg " + std::to_string(i.dreg);
  }
  std::string operator()(const Fib& i) const {
    return "fib flags " + std::to_string(i.flags) + " result " + std::to_string(i.result) +
           " => reg " + std::to_string(i.dreg);
  }
  std::string operator()(const Counter&) const { return "counter"; }
  std::string operator()(const Verdict& i) const { return "verdict " + std::to_string(i.code); }
  std::string operator()(const Reject& i) const {
    return "reject type " + std::to_string(i.type) + " code " + std::to_string(i.code);
  }
};

}  // namespace

std::string Describe(const Insn& insn) { return std::visit(Describer{}, insn); }

}  // namespace nmks
