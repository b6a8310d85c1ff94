#include "cli/json.h"

#include <cstdio>
#include <string>

#include "base/glib_ptr.h"

namespace nmks::cli {
namespace {

void Escape(const char* s, std::string& out) {
  out += '"';
  for (const char* p = s; *p; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void Write(GVariant* v, std::string& out);

// Numbers as JSON numbers; false if `v` is not one of the integer types.
bool WriteNumber(GVariant* v, std::string& out) {
  char buf[32];
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT16)) {
    std::snprintf(buf, sizeof buf, "%u", g_variant_get_uint16(v));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT32)) {
    std::snprintf(buf, sizeof buf, "%u", g_variant_get_uint32(v));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_INT32)) {
    std::snprintf(buf, sizeof buf, "%d", g_variant_get_int32(v));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64)) {
    std::snprintf(buf, sizeof buf, "%llu",
                  static_cast<unsigned long long>(g_variant_get_uint64(v)));
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_BYTE)) {
    std::snprintf(buf, sizeof buf, "%u", g_variant_get_byte(v));
  } else {
    return false;
  }
  out += buf;
  return true;
}

// A dictionary with string keys as a JSON object.
void WriteObject(GVariant* v, std::string& out) {
  out += '{';
  size_t n = g_variant_n_children(v);
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    GVariantPtr entry(g_variant_get_child_value(v, i));
    GVariantPtr key(g_variant_get_child_value(entry.get(), 0));
    GVariantPtr value(g_variant_get_child_value(entry.get(), 1));
    Escape(g_variant_get_string(key.get(), nullptr), out);
    out += ':';
    Write(value.get(), out);
  }
  out += '}';
}

// Any other container (array, tuple) as a JSON array.
void WriteArray(GVariant* v, std::string& out) {
  out += '[';
  size_t n = g_variant_n_children(v);
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    GVariantPtr child(g_variant_get_child_value(v, i));
    Write(child.get(), out);
  }
  out += ']';
}

void Write(GVariant* v, std::string& out) {
  if (g_variant_is_of_type(v, G_VARIANT_TYPE_VARIANT)) {
    GVariantPtr inner(g_variant_get_variant(v));
    Write(inner.get(), out);
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN)) {
    out += g_variant_get_boolean(v) ? "true" : "false";
  } else if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ||
             g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH)) {
    Escape(g_variant_get_string(v, nullptr), out);
  } else if (WriteNumber(v, out)) {
    // written
  } else if (g_variant_type_is_subtype_of(g_variant_get_type(v), G_VARIANT_TYPE("a{s*}"))) {
    WriteObject(v, out);
  } else if (g_variant_is_container(v)) {
    WriteArray(v, out);
  } else {
    out += "null";
  }
}

}  // namespace

std::string VariantToJson(GVariant* value) {
  std::string out;
  Write(value, out);
  return out;
}

}  // namespace nmks::cli
