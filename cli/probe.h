// Active self-test probes: try to send a packet the kill switch must stop,
// from an unprivileged socket (a forked child that drops to nobody), and
// report what the kernel did with it.
#pragma once

#include <string>

#include "rules/policy.h"

namespace nmks::cli {

struct Probe {
  Protocol protocol = Protocol::kUdp;
  Address to;
  uint16_t port = 0;
  std::string device;  // bound with SO_BINDTODEVICE; empty: normal routing
};

enum class Outcome {
  kRefused,   // the kernel refused it (EPERM, reset or unreachable from our table)
  kNoRoute,   // it could not leave at all (no route or no source address)
  kGotOut,    // the kernel sent it
  kUntested,  // the probe itself failed; counts as a failure of the self-test
};

struct ProbeResult {
  Outcome outcome = Outcome::kGotOut;
  std::string detail;  // the errno text, or what happened
};

ProbeResult RunProbe(const Probe& probe);
std::string DescribeProbe(const Probe& probe);

}  // namespace nmks::cli
