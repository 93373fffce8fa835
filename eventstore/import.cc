// The checks on what enters the log: PrepareAppend (new events) and Writer::ImportAll
// (events that already carry their position and hashes).

#include "eventstore/schema.h"
#include "eventstore/writer.h"

namespace custody::eventstore {
namespace {

Status Invalid(std::string_view field, std::string_view problem) {
  return Status::InvalidArgument(std::string(field) + ": " + std::string(problem));
}

// The string fields of an event a verifier in another language must read back unchanged.
Status CheckText(const Event& e) {
  const std::pair<std::string_view, std::string_view> fields[] = {
      {"id", e.id},
      {"type", e.type},
      {"actor", e.actor},
      {"subject", e.subject},
      {"correlation_id", e.correlation_id},
      {"source.ip", e.source.ip},
      {"source.user_agent", e.source.user_agent},
      {"source.token", e.source.token}};
  for (const auto& [name, value] : fields) {
    if (!IsValidUtf8(value)) return Invalid(name, "not valid UTF-8");
  }
  if (e.type.empty()) return Invalid("type", "empty");
  if (e.occurred_at < kMinTime || e.occurred_at > kMaxTime) {
    return Invalid("occurred_at", "outside years 0000-9999");
  }
  return Status::Ok();
}

// Copies the request's value into an event's empty field; a different value is an error.
Status Adopt(std::string_view field, const std::string& request_value, std::string& value) {
  if (value.empty()) {
    value = request_value;
  } else if (value != request_value) {
    return Invalid(field, "the event's value differs from the request's");
  }
  return Status::Ok();
}

Status ImportError(std::int64_t position, std::string_view problem) {
  return Status::Corruption("import: position " + std::to_string(position) + ": " +
                            std::string(problem));
}

}  // namespace

Status PrepareAppend(AppendRequest& request) {
  if (request.stream.empty()) return Invalid("stream", "empty");
  if (!IsValidUtf8(request.stream)) return Invalid("stream", "not valid UTF-8");
  if (!IsValidUtf8(request.tenant)) return Invalid("tenant", "not valid UTF-8");
  if (!IsValidUtf8(request.command_id)) return Invalid("command_id", "not valid UTF-8");
  if (request.events.empty()) return Invalid("events", "an append needs at least one event");
  if (request.expected_version && *request.expected_version < 0) {
    return Invalid("expected_version", "negative");
  }
  for (Event& event : request.events) {
    if (Status s = Adopt("stream", request.stream, event.stream); !s.ok()) return s;
    if (Status s = Adopt("tenant", request.tenant, event.tenant); !s.ok()) return s;
    if (Status s = Adopt("command_id", request.command_id, event.command_id); !s.ok()) return s;
    if (Status s = CheckText(event); !s.ok()) return s;
    Result<std::string> data =
        CanonicalObject(event.data.empty() ? std::string_view("{}") : event.data, "data");
    if (!data.ok()) return data.status();
    event.data = std::move(data).value();
  }
  return Status::Ok();
}

Status Writer::ImportAll(const std::vector<Event>& events, bool drop_query_indexes) {
  // Nothing to write, not even the schema (a change to it makes every connection prepare its
  // statements again).
  if (events.empty()) return Status::Ok();
  Transaction transaction(db_.get());
  if (Status status = transaction.Begin(); !status.ok()) return status;
  // Dropped inside the transaction: an import that fails puts them back with its rollback.
  if (drop_query_indexes) {
    if (Status status = DropQueryIndexes(*db_); !status.ok()) return status;
  }
  // The insert guards refuse nothing this loop lets through, and no other connection can write
  // before they are back: they are created again before the commit.
  if (Status status = DropInsertGuards(*db_); !status.ok()) return status;
  std::string command_tenant;  // the command whose events are being read
  std::string command_id;
  CommandRow command;
  auto flush_command = [&]() -> Status {
    if (command.event_count == 0) return Status::Ok();
    Status status = InsertCommand(*db_, command_tenant, command_id, command);
    command.event_count = 0;
    // The primary key refuses a command id already in the table, whether an earlier import or
    // this one put it there.
    if (status.code() == Status::Code::kConflict) {
      return ImportError(command.first_position, "command_id '" + command_id + "' was used before");
    }
    return status;
  };

  for (const Event& e : events) {
    const std::int64_t position = head_.position + 1;
    if (e.position != position) {
      return ImportError(position, "found position " + std::to_string(e.position));
    }
    Digest prev;  // compared as bytes, as the hash below: no string per event
    if (!FromHex(e.prev_hash, &prev) || prev != head_.hash) {
      return ImportError(position, "prev_hash is not the hash of the previous event");
    }
    if (!IsKnownEventFormat(e.format)) {
      return ImportError(position, "format " + std::to_string(e.format) + " is not supported");
    }
    // Stored but not hashed under format 1: it would be an unprotected field.
    if (!HasSourceToken(e.format) && !e.source.token.empty()) {
      return ImportError(position, "source.token is not part of format 1");
    }
    if (Status status = CheckText(e); !status.ok()) return ImportError(position, status.message());
    if (e.stream.empty() || !IsValidUtf8(e.stream) || !IsValidUtf8(e.tenant) ||
        !IsValidUtf8(e.command_id)) {
      return ImportError(position, "stream, tenant or command_id is empty or not UTF-8");
    }
    if (e.data.size() < 2 || e.data.front() != '{' || e.data.back() != '}') {
      return ImportError(position, "data is not a JSON object");
    }
    if (e.recorded_at < head_.recorded_at) {
      return ImportError(position, "recorded_at is earlier than the previous event's");
    }
    if (e.recorded_at > kMaxTime) return ImportError(position, "recorded_at is after year 9999");
    const EventView view = ViewOf(e);
    scratch_.clear();
    AppendCanonicalBytes(scratch_, view);
    Digest hash;
    Digest stored;
    if (!Sha256(scratch_, &hash)) return Status::IOError("SHA-256 failed");
    if (!FromHex(e.hash, &stored) || stored != hash) {
      return ImportError(position, "hash does not match the event's content");
    }

    Result<StreamRow*> found = LookupStream(e.stream);
    if (!found.ok()) return found.status();
    StreamRow* stream = *found;
    if (stream != nullptr && stream->tenant != e.tenant) {
      return ImportError(position, "stream '" + e.stream + "' belongs to another tenant");
    }
    const std::int64_t expected = (stream == nullptr ? 0 : stream->version) + 1;
    if (e.version != expected) {
      return ImportError(position, "version " + std::to_string(e.version) + " of stream '" +
                                       e.stream + "', expected " + std::to_string(expected));
    }
    if (stream == nullptr) {
      Result<std::int64_t> id = InsertStream(*db_, e.stream, e.tenant);
      if (!id.ok()) return id.status();
      stream = &streams_.emplace(e.stream, StreamRow{*id, e.tenant, 0}).first->second;
    }

    // One append's events are contiguous and share tenant and command_id.
    const bool continues =
        command.event_count > 0 && e.command_id == command_id && e.tenant == command_tenant;
    if (!continues) {
      if (Status status = flush_command(); !status.ok()) return status;
      if (!e.command_id.empty()) {
        command_tenant = e.tenant;
        command_id = e.command_id;
        command = CommandRow{position, 0};
      }
    }
    if (!e.command_id.empty()) ++command.event_count;

    if (Status status = InsertEvent(*db_, stream->id, view, head_.hash, hash); !status.ok()) {
      return status;
    }
    head_.position = position;
    head_.hash = hash;
    head_.recorded_at = e.recorded_at;
    stream->version = e.version;
  }
  if (Status status = flush_command(); !status.ok()) return status;
  if (Status status = CreateInsertGuards(*db_); !status.ok()) return status;
  return transaction.Commit();
}

}  // namespace custody::eventstore
