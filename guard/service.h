// Puts the Guard on the system bus: exports io.github.nmkillswitch.Guard1,
// checks each caller with the Authority, turns Status into D-Bus errors,
// and repairs the table when the kernel reports a change by someone else.
#pragma once

#include <gio/gio.h>

#include <memory>

#include "guard/authority.h"
#include "guard/guard.h"
#include "guard/names.h"

namespace nmks {

class Service {
 public:
  // `guard` and `bus` must outlive the service.
  Service(Guard& guard, GDBusConnection* bus);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  Status Export();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nmks
