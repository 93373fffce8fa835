#pragma once

// Served events inside JSON answers. Events are rendered once by the event store's
// EventToJson; these helpers splice that text into larger documents without re-encoding.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/array.hpp>

#include "domain/event.h"

namespace custody::server {

// "[event,event,...]"
std::string EventsArrayJson(const std::vector<Event>& events);

// {"events": [...], "position": N}: the body of a recorded command.
std::string CommandBody(const std::vector<Event>& events, std::int64_t position);

// {"events": [...], "next_after": N or null}: a page of history.
std::string PageBody(const std::vector<Event>& events, std::optional<std::int64_t> next_after);

// The events as a JSON array value (for problem documents, which are built as values).
boost::json::array EventsArray(const std::vector<Event>& events);

}  // namespace custody::server
