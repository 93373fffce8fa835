#pragma once

// What Boost.JSON accepts but custody must not: a key given twice in one object. Boost.JSON
// keeps one of them silently, so `{"command":"x","command":"y"}` would be read as one command
// while a log reader in another language may see the other. Bodies and imported events with
// a repeated key are refused instead.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

namespace custody {

// Parses `json` as boost::json::parse(json, error, {}, options) does, in the same single pass,
// and also refuses a key that appears twice in one object (at any depth): then `error` is set
// and `*duplicate` names the key (which may be ""). `*duplicate` is nullopt otherwise. Returns
// null on error.
boost::json::value ParseStrictJson(std::string_view json, const boost::json::parse_options& options,
                                   boost::system::error_code& error,
                                   std::optional<std::string>* duplicate);

// The first key that appears twice in one object of the JSON text `json`, at any depth;
// nullopt when there is none or when `json` is not valid JSON.
std::optional<std::string> FindDuplicateKey(std::string_view json);

}  // namespace custody
