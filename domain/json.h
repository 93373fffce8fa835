#pragma once

// Canonical JSON (RFC 8785 for the values custody stores: strings, booleans, integers,
// arrays and objects). Object members are sorted by key, there is no white space, and strings
// escape only '"', '\\' and control characters. The hash chain and the stored event payloads
// depend on these bytes: see docs/STORAGE.md before changing anything here.

#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace custody {

// Appends `text` as a JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view text);

// Appends the canonical form of `value`. Doubles are written as boost::json writes them;
// custody never stores one.
void AppendCanonicalJson(std::string& out, const boost::json::value& value);

std::string CanonicalJson(const boost::json::value& value);

}  // namespace custody
