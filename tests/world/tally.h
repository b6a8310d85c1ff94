// Counts the packets that arrive in a namespace and match an nft
// expression, before anything else in that namespace sees them: a table of
// its own with a named counter in prerouting at priority -300. This is the
// "far side" of every kernel test: what the kill switch let out is what
// arrives here, counted exactly.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "tests/world/netns.h"

namespace nmks::world {

class Tally {
 public:
  // `match` in nft syntax, e.g. "ip daddr 203.0.113.99 udp dport 4000".
  Tally(const Netns& ns, const std::string& match);
  ~Tally();
  Tally(const Tally&) = delete;
  Tally& operator=(const Tally&) = delete;

  // The packets counted so far.
  uint64_t Now() const;
  // Waits until `expected` packets arrived (or `wait` passed), then a little
  // longer for stragglers, and returns the count. Await(0) just settles.
  uint64_t Await(uint64_t expected,
                 std::chrono::milliseconds wait = std::chrono::milliseconds(2000)) const;

 private:
  const Netns& ns_;
  std::string table_;
};

}  // namespace nmks::world
