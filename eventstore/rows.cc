#include "eventstore/rows.h"

#include <algorithm>
#include <iterator>
#include <limits>

namespace custody::eventstore {

std::string BytesToHex(std::string_view bytes) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    hex.push_back(kHexDigits[byte >> 4]);
    hex.push_back(kHexDigits[byte & 0xf]);
  }
  return hex;
}

Event ReadEvent(const Statement& s) {
  Event e;
  e.position = s.ColumnInt64(0);
  e.id = s.ColumnString(1);
  e.stream = s.ColumnString(2);
  e.version = s.ColumnInt64(3);
  e.type = s.ColumnString(4);
  e.tenant = s.ColumnString(5);
  e.actor = s.ColumnString(6);
  e.subject = s.ColumnString(7);
  e.occurred_at = s.ColumnInt64(8);
  e.recorded_at = s.ColumnInt64(9);
  e.command_id = s.ColumnString(10);
  e.correlation_id = s.ColumnString(11);
  e.source.ip = s.ColumnString(12);
  e.source.user_agent = s.ColumnString(13);
  e.data = s.ColumnString(14);
  e.prev_hash = BytesToHex(s.ColumnBlob(15));
  e.hash = BytesToHex(s.ColumnBlob(16));
  e.format = static_cast<int>(s.ColumnInt64(17));
  // Not covered by a format 1 event's hash: never served, whatever the column holds (verify
  // reports a non-empty one).
  if (HasSourceToken(e.format)) e.source.token = s.ColumnString(18);
  return e;
}

Status ReadEventRange(Database& db, std::int64_t first, std::int64_t last,
                      std::vector<Event>* out) {
  static const std::string kSql =
      std::string(kSelectEvents) + " WHERE e.position BETWEEN ? AND ? ORDER BY e.position";
  Statement s = db.GetCachedStatement(kSql);
  s.BindInt64(0, first);
  s.BindInt64(1, last);
  while (s.Step()) out->push_back(ReadEvent(s));
  return s.status();
}

Result<Head> ReadHead(Database& db) {
  Statement s = db.GetCachedStatement(
      "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1");
  Head head;
  if (s.Step()) {
    head.position = s.ColumnInt64(0);
    const std::string_view hash = s.ColumnBlob(1);
    if (hash.size() != head.hash.size()) {
      return Status::Corruption("the hash of position " + std::to_string(head.position) +
                                " is not 32 bytes");
    }
    std::copy(hash.begin(), hash.end(), head.hash.begin());
    head.recorded_at = s.ColumnInt64(2);
  }
  if (!s.Succeeded()) return s.status();
  return head;
}

Result<std::optional<StreamRow>> FindStream(Database& db, std::string_view name) {
  Statement s = db.GetCachedStatement(
      "SELECT s.id, s.tenant, coalesce((SELECT max(version) FROM events WHERE stream_id = s.id), "
      "0) FROM streams s WHERE s.name = ?");
  s.BindText(0, name);
  if (!s.Step()) {
    if (!s.Succeeded()) return s.status();
    return std::optional<StreamRow>();
  }
  StreamRow row;
  row.id = s.ColumnInt64(0);
  row.tenant = s.ColumnString(1);
  row.version = s.ColumnInt64(2);
  return std::optional<StreamRow>(std::move(row));
}

Result<std::int64_t> InsertStream(Database& db, std::string_view name, std::string_view tenant) {
  Statement s = db.GetCachedStatement("INSERT INTO streams (name, tenant) VALUES (?, ?)");
  s.BindTextInPlace(0, name);
  s.BindTextInPlace(1, tenant);
  if (Status status = s.Run(); !status.ok()) return status;
  return db.LastInsertRowId();
}

Result<std::optional<CommandRow>> FindCommand(Database& db, std::string_view tenant,
                                              std::string_view command_id) {
  Statement s = db.GetCachedStatement(
      "SELECT first_position, event_count FROM commands WHERE tenant = ? AND command_id = ?");
  s.BindText(0, tenant);
  s.BindText(1, command_id);
  if (!s.Step()) {
    if (!s.Succeeded()) return s.status();
    return std::optional<CommandRow>();
  }
  return std::optional<CommandRow>(CommandRow{s.ColumnInt64(0), s.ColumnInt64(1)});
}

Status InsertCommand(Database& db, std::string_view tenant, std::string_view command_id,
                     const CommandRow& row) {
  Statement s = db.GetCachedStatement(
      "INSERT INTO commands (tenant, command_id, first_position, event_count) "
      "VALUES (?, ?, ?, ?)");
  s.BindTextInPlace(0, tenant);
  s.BindTextInPlace(1, command_id);
  s.BindInt64(2, row.first_position);
  s.BindInt64(3, row.event_count);
  return s.Run();
}

Status ReadCommandEvents(Database& db, std::string_view tenant, std::string_view command_id,
                         const CommandRow& row, std::vector<Event>* out) {
  auto altered = [&] {
    // No sum of the row's numbers here: an altered row may hold any two.
    return Status::Corruption("the commands table names " + std::to_string(row.event_count) +
                              " events from position " + std::to_string(row.first_position) +
                              " for command '" + std::string(command_id) + "' of tenant '" +
                              std::string(tenant) + "', which are not exactly its events");
  };
  // No head needed: the events read below must be the command's. Below the largest position,
  // the neighbour past the last event is still a position.
  if (!CommandRowFits(row, std::numeric_limits<std::int64_t>::max() - 1)) return altered();
  // One more on each side: a command's events are consecutive, so neither neighbour may be
  // one of them (a row narrowed to part of its command).
  std::vector<Event> read;
  const std::int64_t last = row.first_position + row.event_count - 1;
  if (Status status = ReadEventRange(db, row.first_position - 1, last + 1, &read); !status.ok()) {
    return status;
  }
  auto ours = [&](const Event& event) {
    return event.tenant == tenant && event.command_id == command_id;
  };
  const auto first = std::find_if(read.begin(), read.end(), [&](const Event& event) {
    return event.position == row.first_position;
  });
  const auto end = first + std::min<std::ptrdiff_t>(read.end() - first, row.event_count);
  if (end - first != row.event_count || !std::all_of(first, end, ours) ||
      std::any_of(read.begin(), first, ours) || std::any_of(end, read.end(), ours)) {
    return altered();
  }
  out->insert(out->end(), std::make_move_iterator(first), std::make_move_iterator(end));
  return Status::Ok();
}

Status InsertEvent(Database& db, std::int64_t stream_id, const EventView& e,
                   const Digest& prev_hash, const Digest& hash) {
  Statement s = db.GetCachedStatement(
      "INSERT INTO events (position, stream_id, version, recorded_at, occurred_at, format, "
      "prev_hash, hash, id, type, tenant, actor, subject, command_id, correlation_id, "
      "source_ip, source_user_agent, data, source_token) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.BindInt64(0, e.position);
  s.BindInt64(1, stream_id);
  s.BindInt64(2, e.version);
  s.BindInt64(3, e.recorded_at);
  s.BindInt64(4, e.occurred_at);
  s.BindInt64(5, e.format);
  s.BindBlobInPlace(6, prev_hash.data(), prev_hash.size());
  s.BindBlobInPlace(7, hash.data(), hash.size());
  s.BindTextInPlace(8, e.id);
  s.BindTextInPlace(9, e.type);
  s.BindTextInPlace(10, e.tenant);
  s.BindTextInPlace(11, e.actor);
  s.BindTextInPlace(12, e.subject);
  s.BindTextInPlace(13, e.command_id);
  s.BindTextInPlace(14, e.correlation_id);
  s.BindTextInPlace(15, e.source_ip);
  s.BindTextInPlace(16, e.source_user_agent);
  s.BindTextInPlace(17, e.data);
  s.BindTextInPlace(18, e.source_token);
  return s.Run();
}

Status StreamNames::LoadAll() {
  Statement s = db_.GetCachedStatement("SELECT id, name FROM streams");
  while (s.Step()) names_.emplace(s.ColumnInt64(0), s.ColumnString(1));
  return s.status();
}

Result<std::string_view> StreamNames::Get(std::int64_t id) {
  if (auto it = names_.find(id); it != names_.end()) return std::string_view(it->second);
  Statement s = db_.GetCachedStatement("SELECT name FROM streams WHERE id = ?");
  s.BindInt64(0, id);
  if (!s.Step()) {
    if (!s.Succeeded()) return s.status();
    return Status::Corruption("no stream has id " + std::to_string(id));
  }
  return std::string_view(names_.emplace(id, s.ColumnString(0)).first->second);
}

}  // namespace custody::eventstore
