#include "eventstore/event_format.h"

#include <charconv>
#include <climits>
#include <exception>
#include <initializer_list>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "domain/json.h"
#include "domain/strict_json.h"
#include "domain/time.h"
#include "eventstore/encoding.h"

namespace custody::eventstore {
namespace {

namespace json = boost::json;

constexpr std::string_view kFields[] = {
    "position", "id",      "stream",      "version",     "type",       "tenant",
    "actor",    "subject", "occurred_at", "recorded_at", "command_id", "correlation_id",
    "source",   "data",    "prev_hash",   "hash",        "format"};

void AppendInt(std::string& out, std::int64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

void AppendNullable(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += "null";
  } else {
    AppendJsonString(out, text);
  }
}

Status FieldError(std::string_view field, std::string_view problem) {
  return Status::InvalidArgument("event field '" + std::string(field) +
                                 "': " + std::string(problem));
}

const json::value* Find(const json::object& object, std::string_view key) {
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &it->value();
}

Status GetInt(const json::object& object, std::string_view key, std::int64_t minimum,
              std::int64_t maximum, std::int64_t* out) {
  const json::value* value = Find(object, key);
  if (value == nullptr) return FieldError(key, "missing");
  std::int64_t number;
  if (value->is_int64()) {
    number = value->get_int64();
  } else if (value->is_uint64() && value->get_uint64() <= std::uint64_t{INT64_MAX}) {
    number = static_cast<std::int64_t>(value->get_uint64());
  } else {
    return FieldError(key, "not an integer");
  }
  if (number < minimum || number > maximum) return FieldError(key, "out of range");
  *out = number;
  return Status::Ok();
}

// Nullable strings are null when empty and never "", so that every event has one encoding.
// `name` is the field's full name in errors when it differs from `key` (nested objects).
Status GetString(const json::object& object, std::string_view key, bool nullable, std::string* out,
                 std::string_view name = {}) {
  if (name.empty()) name = key;
  const json::value* value = Find(object, key);
  if (value == nullptr) return FieldError(name, "missing");
  if (nullable && value->is_null()) {
    out->clear();
    return Status::Ok();
  }
  if (!value->is_string()) {
    return FieldError(name, nullable ? "not a string or null" : "not a string");
  }
  if (nullable && value->get_string().empty()) return FieldError(name, "empty: write null instead");
  out->assign(value->get_string().data(), value->get_string().size());
  return Status::Ok();
}

Status GetTime(const json::object& object, std::string_view key, TimeMs* out) {
  std::string text;
  if (Status status = GetString(object, key, false, &text); !status.ok()) return status;
  const std::optional<TimeMs> time = ParseTime(text);
  // Only the exact served form, or the canonical bytes would differ from the text.
  if (!time || FormatTime(*time) != text) {
    return FieldError(key, "not a time like 2026-11-21T10:00:00.000Z");
  }
  *out = *time;
  return Status::Ok();
}

Status GetHash(const json::object& object, std::string_view key, std::string* out) {
  if (Status status = GetString(object, key, false, out); !status.ok()) return status;
  Digest digest;
  if (!FromHex(*out, &digest)) return FieldError(key, "not 64 lower-case hex digits");
  return Status::Ok();
}

// `source` holds `token` from format 2 on (HasSourceToken), and only then.
Status GetSource(const json::object& object, std::int64_t format, Source* out) {
  const json::value* value = Find(object, "source");
  if (value == nullptr) return FieldError("source", "missing");
  if (!value->is_object()) return FieldError("source", "not an object");
  const json::object& source = value->get_object();
  const bool has_token = HasSourceToken(format);
  for (const auto& member : source) {
    if (member.key() != "ip" && member.key() != "user_agent" &&
        (member.key() != "token" || !has_token)) {
      return FieldError("source." + std::string(member.key()),
                        member.key() == "token" ? "not part of format 1" : "unknown field");
    }
  }
  if (Status status = GetString(source, "ip", true, &out->ip, "source.ip"); !status.ok()) {
    return status;
  }
  if (has_token) {
    if (Status status = GetString(source, "token", true, &out->token, "source.token");
        !status.ok()) {
      return status;
    }
  }
  return GetString(source, "user_agent", true, &out->user_agent, "source.user_agent");
}

Result<Event> ParseEvent(const json::object& object) {
  for (const auto& member : object) {
    bool known = false;
    for (std::string_view field : kFields) known = known || member.key() == field;
    if (!known) return FieldError(member.key(), "unknown field");
  }
  Event e;
  Status status;
  auto check = [&status](Status next) {
    if (status.ok()) status = std::move(next);
  };
  check(GetInt(object, "position", 1, INT64_MAX, &e.position));
  check(GetString(object, "id", false, &e.id));
  check(GetString(object, "stream", false, &e.stream));
  check(GetInt(object, "version", 1, INT64_MAX, &e.version));
  check(GetString(object, "type", false, &e.type));
  check(GetString(object, "tenant", false, &e.tenant));
  check(GetString(object, "actor", false, &e.actor));
  check(GetString(object, "subject", true, &e.subject));
  check(GetTime(object, "occurred_at", &e.occurred_at));
  check(GetTime(object, "recorded_at", &e.recorded_at));
  check(GetString(object, "command_id", true, &e.command_id));
  check(GetString(object, "correlation_id", true, &e.correlation_id));
  std::int64_t format = 0;
  check(GetInt(object, "format", 1, INT_MAX, &format));
  check(GetSource(object, format, &e.source));
  if (!status.ok()) return status;
  const json::value* data = Find(object, "data");
  if (data == nullptr) return FieldError("data", "missing");
  Result<std::string> canonical = CanonicalObject(*data, "event field 'data'");
  if (!canonical.ok()) return canonical.status();
  e.data = std::move(canonical).value();
  check(GetHash(object, "prev_hash", &e.prev_hash));
  check(GetHash(object, "hash", &e.hash));
  if (!status.ok()) return status;
  e.format = static_cast<int>(format);
  return e;
}

void AppendCsvField(std::string& out, std::string_view text, bool always_quote) {
  if (!always_quote && text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += text;
    return;
  }
  out.push_back('"');
  for (const char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

// The canonical bytes of `event` chained after `prev_hash_hex`.
std::string CanonicalBytesAfter(std::string_view prev_hash_hex, const Event& event) {
  EventView view = ViewOf(event);
  view.prev_hash = prev_hash_hex;
  std::string out;
  out.reserve(320 + event.data.size());
  AppendCanonicalBytes(out, view);
  return out;
}

}  // namespace

std::string CanonicalEventBytes(const Event& event) {
  return CanonicalBytesAfter(event.prev_hash, event);
}

std::string ChainHash(std::string_view prev_hash_hex, const Event& event) {
  Digest prev;
  Digest hash;
  if (!FromHex(prev_hash_hex, &prev) || !Sha256(CanonicalBytesAfter(prev_hash_hex, event), &hash)) {
    return std::string();
  }
  return ToHex(hash);
}

std::string EventToJson(const Event& e) {
  std::string out;
  out.reserve(400 + e.data.size());
  out += "{\"position\":";
  AppendInt(out, e.position);
  out += ",\"id\":";
  AppendJsonString(out, e.id);
  out += ",\"stream\":";
  AppendJsonString(out, e.stream);
  out += ",\"version\":";
  AppendInt(out, e.version);
  out += ",\"type\":";
  AppendJsonString(out, e.type);
  out += ",\"tenant\":";
  AppendJsonString(out, e.tenant);
  out += ",\"actor\":";
  AppendJsonString(out, e.actor);
  out += ",\"subject\":";
  AppendNullable(out, e.subject);
  out += ",\"occurred_at\":\"";
  AppendTime(out, e.occurred_at);
  out += "\",\"recorded_at\":\"";
  AppendTime(out, e.recorded_at);
  out += "\",\"command_id\":";
  AppendNullable(out, e.command_id);
  out += ",\"correlation_id\":";
  AppendNullable(out, e.correlation_id);
  out += ",\"source\":{\"ip\":";
  AppendNullable(out, e.source.ip);
  out += ",\"user_agent\":";
  AppendNullable(out, e.source.user_agent);
  if (HasSourceToken(e.format)) {
    out += ",\"token\":";
    AppendNullable(out, e.source.token);
  }
  out += "},\"data\":";
  out += e.data.empty() ? std::string_view("{}") : std::string_view(e.data);
  out += ",\"prev_hash\":";
  AppendJsonString(out, e.prev_hash);
  out += ",\"hash\":";
  AppendJsonString(out, e.hash);
  out += ",\"format\":";
  AppendInt(out, e.format);
  out += '}';
  return out;
}

Result<Event> EventFromJson(std::string_view text) {
  try {
    boost::system::error_code error;
    // One reading only: a verifier that keeps the other copy of a repeated key would disagree.
    std::optional<std::string> duplicate;
    const json::value value = ParseStrictJson(text, {}, error, &duplicate);
    if (duplicate) return FieldError(*duplicate, "given more than once");
    if (error) return Status::InvalidArgument("event: invalid JSON: " + error.message());
    if (!value.is_object()) return Status::InvalidArgument("event: not a JSON object");
    return ParseEvent(value.get_object());
  } catch (const std::exception& e) {  // allocation failures; parse errors are error codes
    return Status::InvalidArgument(std::string("event: ") + e.what());
  }
}

std::string EventCsvHeader() {
  return "position,id,stream,version,type,tenant,actor,subject,occurred_at,recorded_at,"
         "command_id,correlation_id,source_ip,source_user_agent,data,prev_hash,hash,format,"
         "source_token\r\n";
}

std::string EventToCsvRow(const Event& e) {
  std::string out;
  out.reserve(300 + e.data.size());
  const std::string position = std::to_string(e.position);
  const std::string version = std::to_string(e.version);
  for (std::string_view field :
       {std::string_view(position), std::string_view(e.id), std::string_view(e.stream),
        std::string_view(version), std::string_view(e.type), std::string_view(e.tenant),
        std::string_view(e.actor), std::string_view(e.subject)}) {
    AppendCsvField(out, field, false);
    out.push_back(',');
  }
  AppendTime(out, e.occurred_at);
  out.push_back(',');
  AppendTime(out, e.recorded_at);
  out.push_back(',');
  for (std::string_view field :
       {std::string_view(e.command_id), std::string_view(e.correlation_id),
        std::string_view(e.source.ip), std::string_view(e.source.user_agent)}) {
    AppendCsvField(out, field, false);
    out.push_back(',');
  }
  AppendCsvField(out, e.data, true);
  out.push_back(',');
  out += e.prev_hash;
  out.push_back(',');
  out += e.hash;
  out.push_back(',');
  AppendInt(out, e.format);
  out.push_back(',');
  AppendCsvField(out, e.source.token, false);
  out += "\r\n";
  return out;
}

}  // namespace custody::eventstore
