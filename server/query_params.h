#pragma once

// Query strings: decoding, and validation of the parameters the routes take. A bad parameter
// is a ParamError naming it; the router answers 400 invalid_field with that `field`.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "domain/time.h"
#include "eventstore/event_store.h"

namespace custody::server {

struct ParamError {
  std::string field;
  std::string message;
};

using Params = std::map<std::string, std::string>;

inline constexpr std::size_t kDefaultLimit = 100;
inline constexpr std::size_t kMaxLimit = 1000;

// Decodes %XX escapes; nullopt for a bad escape. A '+' stays a '+' (RFC 3986 gives it no
// meaning in a query): no parameter holds a space, and a time's offset ("+01:00") is often
// sent unescaped.
std::optional<std::string> PercentDecode(std::string_view text);

// The name → value pairs of a query string ("a=1&b=2"). A repeated name, an empty name or a
// bad escape is an error.
std::variant<Params, ParamError> ParseQuery(std::string_view query);

// An error for the first parameter not in `allowed`, if any.
std::optional<ParamError> RejectUnknown(const Params& params,
                                        std::span<const std::string_view> allowed);

// A non-negative integer of decimal digits only (no sign, no spaces), fitting in int64.
std::optional<std::int64_t> ParseNonNegative(std::string_view text);

// `at=`: a position (an integer >= 0) or an RFC 3339 time.
struct At {
  std::optional<std::int64_t> position;
  std::optional<TimeMs> time;
};
std::variant<std::optional<At>, ParamError> ParseAt(const Params& params);

// The filters of GET /v1/events and /v1/events/live: tenant, stream, type, actor, subject,
// since, until, after; and limit (1 to kMaxLimit) when `with_limit`.
struct HistoryParams {
  eventstore::Filter filter;
  std::size_t limit = kDefaultLimit;
};
std::variant<HistoryParams, ParamError> ParseHistoryParams(const Params& params, bool with_limit);

}  // namespace custody::server
