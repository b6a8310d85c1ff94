// Puts the Guard on the system bus: exports io.github.nmkillswitch.Guard1
// (and Relay1, for the front), checks each caller with the Authority, turns
// Status into D-Bus errors, and repairs the table when the kernel reports a
// change by someone else.
#pragma once

#include <gio/gio.h>

#include <memory>

#include "guard/authority.h"
#include "guard/guard.h"
#include "guard/names.h"

namespace nmks {

class BusService {
 public:
  // `guard` and `bus` must outlive the service.
  BusService(Guard& guard, GDBusConnection* bus);
  ~BusService();
  BusService(const BusService&) = delete;
  BusService& operator=(const BusService&) = delete;

  Status Export();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nmks
