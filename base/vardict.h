// The entries of an a{sv} dictionary, one at a time, each value owned
// until the next: how the guard's status and a policy are decoded.
//
//   for (VardictEntries e(dict); e.Next();) Use(e.key(), e.value());
//
// `dict` must be of type a{sv} and outlive the loop.
#pragma once

#include <glib.h>

#include "base/glib_ptr.h"

namespace nmks {

class VardictEntries {
 public:
  explicit VardictEntries(GVariant* dict) { g_variant_iter_init(&iter_, dict); }
  VardictEntries(const VardictEntries&) = delete;
  VardictEntries& operator=(const VardictEntries&) = delete;

  // Moves to the next entry; false after the last.
  bool Next() {
    GVariant* raw = nullptr;
    bool more = g_variant_iter_next(&iter_, "{&sv}", &key_, &raw);
    value_.reset(raw);
    return more;
  }
  const char* key() const { return key_; }
  GVariant* value() const { return value_.get(); }

 private:
  GVariantIter iter_;
  const gchar* key_ = nullptr;
  GVariantPtr value_;
};

}  // namespace nmks
