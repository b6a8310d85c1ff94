// Active self-test probes: try to send a packet the kill switch must stop,
// from an unprivileged socket (a forked child that drops to nobody), and
// judge what happened. Only the kill switch's own counters prove that it
// stopped a packet: a reset or an ICMP error looks the same whether the
// table made it on this machine or a far host or router sent it after the
// packet got out, and silence can mean a packet that left unanswered.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "rules/policy.h"
#include "rules/ruleset.h"

namespace nmks::cli {

struct Probe {
  Protocol protocol = Protocol::kUdp;
  Address to;
  uint16_t port = 0;
  std::string device;  // bound with SO_BINDTODEVICE; empty: normal routing
};

// What the kernel told the probing socket.
struct Attempt {
  bool ran = false;   // false: the probe could not run at all
  bool sent = false;  // a packet may have been sent (else the kernel refused before sending)
  int error = 0;      // errno of the refusal or of the answer; 0: sent, no answer or accepted
};

// Sends one probe and waits briefly for an answer.
Attempt RunProbe(const Probe& probe);

enum class Outcome {
  kStopped,   // the kill switch stopped it: its counters moved
  kNoRoute,   // it could not leave at all: refused before sending, for want of a route or address
  kGotOut,    // it may have left: sent and answered, accepted, or silent, and the counters stayed
  kUntested,  // no evidence either way (the probe failed, or something else refused it)
};

struct ProbeResult {
  Outcome outcome = Outcome::kGotOut;
  std::string detail;  // what happened, for people
};

// The kill switch's counters of packets stopped on the way out, by reason.
using StopCounts = std::map<Stop, uint64_t>;

// What the counters say about one probe.
enum class Evidence {
  kNone,     // they did not move
  kClean,    // only the reasons that stop such a probe moved, by no more than it can have sent
  kCrowded,  // other packets were stopped meanwhile: the probe proves nothing, try it again
};
Evidence CountersMoved(const Probe& probe, const StopCounts& before, const StopCounts& after);

// The verdict on `attempt`, given what the counters said while it ran.
ProbeResult Judge(const Attempt& attempt, Evidence evidence);
std::string DescribeProbe(const Probe& probe);

}  // namespace nmks::cli
