#include "guard/guard_status.h"

#include <algorithm>
#include <utility>

#include "base/i18n.h"
#include "base/vardict.h"

namespace nmks {
namespace {

GVariant* StringArray(const std::vector<std::string>& list) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
  for (const auto& s : list) g_variant_builder_add(&b, "s", s.c_str());
  return g_variant_builder_end(&b);
}

std::vector<std::string> Strings(GVariant* value) {
  std::vector<std::string> out;
  if (!g_variant_is_of_type(value, G_VARIANT_TYPE_STRING_ARRAY)) return out;
  GVariantIter it;
  g_variant_iter_init(&it, value);
  const gchar* s = nullptr;
  while (g_variant_iter_next(&it, "&s", &s)) out.emplace_back(s);
  return out;
}

}  // namespace

void GuardStatus::SetConnections(const Engagements& engaged) {
  connections.clear();
  endpoint_counts.clear();
  for (const auto& [id, p] : engaged) {
    Policy sample = p;
    if (sample.endpoints.size() > kStatusSample) sample.endpoints.resize(kStatusSample);
    connections.emplace(id, std::move(sample));
    endpoint_counts[id] = p.endpoints.size();
  }
}

size_t GuardStatus::EndpointCount(const std::string& connection) const {
  auto count = endpoint_counts.find(connection);
  if (count != endpoint_counts.end()) return count->second;
  auto policy = connections.find(connection);
  return policy == connections.end() ? 0 : policy->second.endpoints.size();
}

bool GuardStatus::BlockedAtBoot(const std::string& connection) const {
  return std::find(boot_connections.begin(), boot_connections.end(), connection) !=
         boot_connections.end();
}

GVariant* GuardStatusToVariant(const GuardStatus& s, EndpointForm form) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
  auto add = [&b](const char* key, GVariant* value) {
    g_variant_builder_add(&b, "{sv}", key, value);
  };
  add("version", g_variant_new_string(s.version.c_str()));
  add("engaged", g_variant_new_boolean(s.engaged));
  add("protection", g_variant_new_string(s.protection.c_str()));
  add("connections", EngagementsToVariant(s.connections, form));
  GVariantBuilder counts;
  g_variant_builder_init(&counts, G_VARIANT_TYPE("a{su}"));
  for (const auto& [id, n] : s.endpoint_counts) {
    g_variant_builder_add(&counts, "{su}", id.c_str(), static_cast<guint32>(n));
  }
  add("endpoint-counts", g_variant_builder_end(&counts));
  add("boot-connections", StringArray(s.boot_connections));
  add("warnings", StringArray(s.warnings));
  if (!s.table.empty()) add("table", g_variant_new_string(s.table.c_str()));
  if (!s.stopped.empty()) {  // counted
    GVariantBuilder st;
    g_variant_builder_init(&st, G_VARIANT_TYPE("a{st}"));
    for (const auto& [why, n] : s.stopped) g_variant_builder_add(&st, "{st}", why.c_str(), n);
    add("stopped", g_variant_builder_end(&st));
  }
  add("table-in-kernel", g_variant_new_boolean(s.table_in_kernel));
  add("kernel-matches", g_variant_new_boolean(s.kernel_matches));
  add("problem", g_variant_new_string(s.problem.c_str()));
  return g_variant_builder_end(&b);
}

Result<GuardStatus> GuardStatusFromVariant(GVariant* status) {
  if (status == nullptr || !g_variant_is_of_type(status, G_VARIANT_TYPE_VARDICT)) {
    return Status::Error(_("the guard's status is not a dictionary of D-Bus type a{sv}"));
  }
  GuardStatus s;
  for (VardictEntries entry(status); entry.Next();) {
    GVariant* raw = entry.value();
    const std::string k = entry.key();
    auto text = [raw]() -> std::string {
      return g_variant_is_of_type(raw, G_VARIANT_TYPE_STRING) ? g_variant_get_string(raw, nullptr)
                                                              : "";
    };
    auto flag = [raw]() {
      return g_variant_is_of_type(raw, G_VARIANT_TYPE_BOOLEAN) && g_variant_get_boolean(raw);
    };
    if (k == "version") {
      s.version = text();
    } else if (k == "engaged") {
      s.engaged = flag();
    } else if (k == "protection") {
      s.protection = text();
    } else if (k == "connections") {
      auto engaged = EngagementsFromVariant(raw);
      if (!engaged.ok()) {
        return Status::Error(
            Format(_("the guard's status cannot be read: %s"), engaged.message().c_str()));
      }
      s.connections = std::move(engaged).value();
    } else if (k == "endpoint-counts" && g_variant_is_of_type(raw, G_VARIANT_TYPE("a{su}"))) {
      GVariantIter counts;
      g_variant_iter_init(&counts, raw);
      const gchar* id = nullptr;
      guint32 n = 0;
      while (g_variant_iter_next(&counts, "{&su}", &id, &n)) s.endpoint_counts[id] = n;
    } else if (k == "boot-connections") {
      s.boot_connections = Strings(raw);
    } else if (k == "warnings") {
      s.warnings = Strings(raw);
    } else if (k == "table") {
      s.table = text();
    } else if (k == "stopped" && g_variant_is_of_type(raw, G_VARIANT_TYPE("a{st}"))) {
      GVariantIter stopped;
      g_variant_iter_init(&stopped, raw);
      const gchar* why = nullptr;
      guint64 n = 0;
      while (g_variant_iter_next(&stopped, "{&st}", &why, &n)) s.stopped[why] += n;
    } else if (k == "table-in-kernel") {
      s.table_in_kernel = flag();
    } else if (k == "kernel-matches") {
      s.kernel_matches = flag();
    } else if (k == "problem") {
      s.problem = text();
    }
  }
  return s;
}

}  // namespace nmks
