#pragma once

// The request and response of the pure handler layer: plain values, no socket, no Beast. The
// session turns Beast messages into a Request and a Response back into bytes on the wire, so
// handlers can be unit-tested and fuzzed without a network.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eventstore/event_store.h"

namespace custody::server {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query string, as received
  std::string authorization;
  std::string content_type;
  std::string accept;
  std::string user_agent;
  std::string last_event_id;
  bool has_last_event_id = false;
  std::string body;
  std::string peer_ip;  // the remote address of the connection
};

// What a streaming response sends after its header, instead of a body.
struct StreamPlan {
  enum class Kind { kNdjson, kCsv, kLive };
  Kind kind = Kind::kNdjson;
  // The events to send; after_position is the cursor to start after. Export plans carry an
  // until_position (the head when the request arrived) so they end.
  eventstore::Filter filter;
  // The token the stream was opened with: a live tail ends once it is revoked.
  std::string token_id;
};

struct Response;
// Hands over a deferred answer: called exactly once, from any thread (often the event store's
// writer). `render` builds the answer on the thread that sends it, off the writer's path.
using Respond = std::function<void(std::function<Response()> render)>;

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra header fields
  std::shared_ptr<StreamPlan> stream;  // set: a chunked stream follows the header
  // Set: the answer is not known yet (a command waiting for its durable append), and this
  // response carries nothing else. Call it once with where the answer goes; it returns at once
  // and the answer comes later, possibly on another thread.
  std::function<void(Respond)> deferred;

  // For the access log and the metrics, not sent.
  std::string route = "unmatched";  // the route pattern, e.g. /v1/tenants/{tenant}/marketo
  std::string token_id;             // the authenticated token's public id, if any
};

// The path of a target, without its query string.
inline std::string PathOf(const std::string& target) { return target.substr(0, target.find('?')); }

// `text` without the optional white space (spaces and tabs, RFC 9110) around a header field's
// value or one of its elements.
inline std::string_view TrimOws(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Calls `visit(name, value)` for each `name=value` parameter of a media type or range,
// `parameters` being what follows its first ';'. White space around each parameter is dropped;
// name and value are as written. Stops once `visit` returns false.
template <typename Visit>
void ForEachMediaParameter(std::string_view parameters, Visit&& visit) {
  for (;;) {
    const std::size_t semicolon = parameters.find(';');
    const std::string_view parameter = TrimOws(parameters.substr(0, semicolon));
    const std::size_t equals = parameter.find('=');
    if (equals != std::string_view::npos &&
        !visit(parameter.substr(0, equals), parameter.substr(equals + 1))) {
      return;
    }
    if (semicolon == std::string_view::npos) return;
    parameters.remove_prefix(semicolon + 1);
  }
}

}  // namespace custody::server
