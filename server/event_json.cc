#include "server/event_json.h"

#include <boost/json/parse.hpp>

#include "eventstore/event_format.h"

namespace custody::server {

std::string EventsArrayJson(const std::vector<Event>& events) {
  std::string out = "[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += eventstore::EventToJson(events[i]);
  }
  out.push_back(']');
  return out;
}

std::string CommandBody(const std::vector<Event>& events, std::int64_t position) {
  return "{\"events\":" + EventsArrayJson(events) + ",\"position\":" + std::to_string(position) +
         "}";
}

std::string PageBody(const std::vector<Event>& events, std::optional<std::int64_t> next_after) {
  return "{\"events\":" + EventsArrayJson(events) +
         ",\"next_after\":" + (next_after ? std::to_string(*next_after) : std::string("null")) +
         "}";
}

boost::json::array EventsArray(const std::vector<Event>& events) {
  boost::json::array out;
  for (const Event& event : events) {
    boost::system::error_code error;
    boost::json::value value = boost::json::parse(eventstore::EventToJson(event), error);
    if (!error) out.push_back(std::move(value));
  }
  return out;
}

}  // namespace custody::server
