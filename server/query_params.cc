#include "server/query_params.h"

#include <charconv>

#include "domain/command_codec.h"
#include "domain/events.h"

namespace custody::server {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

const std::string* Find(const Params& params, const char* name) {
  const auto found = params.find(name);
  return found == params.end() ? nullptr : &found->second;
}

std::optional<ParamError> ReadTime(const Params& params, const char* name,
                                   std::optional<TimeMs>* out) {
  const std::string* text = Find(params, name);
  if (text == nullptr) return std::nullopt;
  *out = ParseTime(*text);
  if (!*out) {
    return ParamError{name, std::string("'") + name +
                                "' must be an RFC 3339 time, e.g. 2026-11-21T10:00:00.000Z"};
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = HexValue(text[i + 1]);
      const int low = HexValue(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::variant<Params, ParamError> ParseQuery(std::string_view query) {
  Params params;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;  // "a=1&&b=2"
    const std::size_t eq = pair.find('=');
    const auto name = PercentDecode(pair.substr(0, eq));
    const auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!name || name->empty()) return ParamError{"query", "malformed query string"};
    if (!value) return ParamError{*name, "'" + *name + "' has a malformed %-escape"};
    if (!params.emplace(*name, *value).second) {
      return ParamError{*name, "'" + *name + "' is given more than once"};
    }
  }
  return params;
}

std::optional<ParamError> RejectUnknown(const Params& params,
                                        std::span<const std::string_view> allowed) {
  for (const auto& [name, value] : params) {
    bool known = false;
    for (std::string_view candidate : allowed) known = known || candidate == name;
    if (!known) return ParamError{name, "unknown parameter '" + name + "'"};
  }
  return std::nullopt;
}

std::optional<std::int64_t> ParseNonNegative(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::variant<std::optional<At>, ParamError> ParseAt(const Params& params) {
  const std::string* text = Find(params, "at");
  if (text == nullptr) return std::optional<At>();
  At at;
  if (!text->empty() && text->find_first_not_of("0123456789") == std::string::npos) {
    at.position = ParseNonNegative(*text);
  } else {
    at.time = ParseTime(*text);
  }
  if (!at.position && !at.time) {
    return ParamError{"at", "'at' must be a position (an integer >= 0) or an RFC 3339 time"};
  }
  return std::optional<At>(at);
}

std::variant<HistoryParams, ParamError> ParseHistoryParams(const Params& params, bool with_limit) {
  HistoryParams out;
  eventstore::Filter& filter = out.filter;
  const std::pair<const char*, std::string*> strings[] = {
      {"tenant", &filter.tenant}, {"stream", &filter.stream},   {"type", &filter.type},
      {"actor", &filter.actor},   {"subject", &filter.subject},
  };
  for (const auto& [name, target] : strings) {
    if (const std::string* value = Find(params, name)) {
      if (value->empty()) return ParamError{name, std::string("'") + name + "' is empty"};
      *target = *value;
    }
  }
  // A value no event can hold is the caller's mistake, not an empty history: a misspelt type
  // must not read as "nothing happened".
  if (std::string problem = TenantIdProblem(filter.tenant);
      !filter.tenant.empty() && !problem.empty()) {
    return ParamError{"tenant", std::move(problem)};
  }
  if (!filter.stream.empty() && !StreamTenant(filter.stream)) {
    return ParamError{"stream", "'" + filter.stream +
                                    "' is no stream: {tenant}/instance or "
                                    "{tenant}/onboarding/{member}"};
  }
  if (!filter.type.empty() && !events::IsEventType(filter.type)) {
    return ParamError{"type", "'" + filter.type + "' is no event type: " + events::EventTypeList()};
  }
  for (const auto& [name, id] : {std::pair<const char*, const std::string*>{"actor", &filter.actor},
                                 {"subject", &filter.subject}}) {
    if (std::string problem = IdProblem(*id, name); !id->empty() && !problem.empty()) {
      return ParamError{name, std::move(problem)};
    }
  }
  if (auto error = ReadTime(params, "since", &filter.since)) return *error;
  if (auto error = ReadTime(params, "until", &filter.until)) return *error;
  if (const std::string* after = Find(params, "after")) {
    const auto position = ParseNonNegative(*after);
    if (!position) return ParamError{"after", "'after' must be a position (an integer >= 0)"};
    filter.after_position = *position;
  }
  if (const std::string* limit = Find(params, "limit")) {
    const auto value = with_limit ? ParseNonNegative(*limit) : std::nullopt;
    if (!value || *value < 1 || *value > static_cast<std::int64_t>(kMaxLimit)) {
      return ParamError{"limit",
                        "'limit' must be an integer from 1 to " + std::to_string(kMaxLimit)};
    }
    out.limit = static_cast<std::size_t>(*value);
  }
  return out;
}

}  // namespace custody::server
