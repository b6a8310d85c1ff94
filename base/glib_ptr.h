// Owning handles for GLib and GObject values, so every reference and every
// g_malloc'd block is released on every path. The one family of them for
// the whole project: GObjectPtr<NMConnection>, GVariantPtr, GFreePtr<gchar>, ...
#pragma once

#include <glib-object.h>

#include <memory>

namespace nmks {

struct GObjectUnref {
  void operator()(gpointer object) const { g_object_unref(object); }
};
struct GFreeDeleter {
  void operator()(gpointer p) const { g_free(p); }
};
struct GErrorFree {
  void operator()(GError* error) const { g_error_free(error); }
};
struct GVariantUnref {
  void operator()(GVariant* v) const { g_variant_unref(v); }
};
struct GMainLoopUnref {
  void operator()(GMainLoop* loop) const { g_main_loop_unref(loop); }
};

// Holds one reference to a GObject (of type T).
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;
template <typename T>
using GFreePtr = std::unique_ptr<T, GFreeDeleter>;
using GErrorPtr = std::unique_ptr<GError, GErrorFree>;
using GVariantPtr = std::unique_ptr<GVariant, GVariantUnref>;
using GMainLoopPtr = std::unique_ptr<GMainLoop, GMainLoopUnref>;

// Takes `v` (floating or not) into a GVariantPtr: a floating reference is
// sunk, so the pointer holds the only one the caller had.
inline GVariantPtr TakeVariant(GVariant* v) {
  return GVariantPtr(v ? g_variant_ref_sink(v) : nullptr);
}

}  // namespace nmks
