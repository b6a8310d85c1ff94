// GVariant to JSON, for `status --json`: dictionaries become objects,
// arrays and tuples become arrays, strings are escaped.
#pragma once

#include <glib.h>

#include <string>

namespace nmks::cli {

std::string VariantToJson(GVariant* value);

}  // namespace nmks::cli
