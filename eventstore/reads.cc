#include "eventstore/reads.h"

#include <algorithm>
#include <iterator>
#include <variant>

#include "eventstore/rows.h"

namespace custody::eventstore {

namespace {

// How a query matches Filter::subject: the event's subject, or (read apart, since a JSON
// search cannot use the subject index) an integration_down whose cut_off names the member.
enum class SubjectRule { kSubject, kCutOff };

// Appends to `out`, in position order, at most `fetch` events that match `filter` (its
// subject by `rule`) and lie at or before `until_position`, if given.
Status SelectEvents(Database& db, const Filter& filter, SubjectRule rule,
                    std::optional<std::int64_t> until_position, std::int64_t fetch,
                    std::vector<Event>* out) {
  // Each combination of filters is its own SQL text, and so its own cached statement.
  std::string sql(kSelectEvents);
  std::vector<std::variant<std::int64_t, std::string_view>> values;
  sql += " WHERE e.position > ?";
  values.emplace_back(filter.after_position);
  auto text = [&](const std::string& value, const char* condition) {
    if (value.empty()) return;
    sql += condition;
    values.emplace_back(std::string_view(value));
  };
  text(filter.tenant, " AND e.tenant = ?");
  text(filter.stream, " AND e.stream_id = (SELECT id FROM streams WHERE name = ?)");
  text(filter.type, " AND e.type = ?");
  text(filter.actor, " AND e.actor = ?");
  text(filter.subject, rule == SubjectRule::kSubject
                           ? " AND e.subject = ?"
                           : " AND e.type = 'marketo.integration_down' AND EXISTS (SELECT 1 FROM "
                             "json_each(e.data, '$.cut_off') WHERE value = ?)");
  if (filter.since) {
    sql += " AND e.occurred_at >= ?";
    values.emplace_back(*filter.since);
  }
  if (filter.until) {
    sql += " AND e.occurred_at < ?";
    values.emplace_back(*filter.until);
  }
  if (until_position) {
    sql += " AND e.position <= ?";
    values.emplace_back(*until_position);
  }
  sql += " ORDER BY e.position LIMIT ?";
  values.emplace_back(fetch);

  Statement s = db.GetCachedStatement(sql);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (const auto* number = std::get_if<std::int64_t>(&values[i])) {
      s.BindInt64(static_cast<int>(i), *number);
    } else {
      s.BindText(static_cast<int>(i), std::get<std::string_view>(values[i]));
    }
  }
  while (s.Step()) out->push_back(ReadEvent(s));
  return s.status();
}

}  // namespace

Result<Page> QueryEvents(Database& db, const Filter& filter, std::size_t limit) {
  if (limit == 0) return Status::InvalidArgument("limit must be at least 1");
  // One more than asked: whether it exists decides next_after.
  const std::int64_t fetch = limit >= std::size_t{INT64_MAX} ? INT64_MAX : std::int64_t(limit) + 1;
  std::vector<Event> events;
  if (Status status =
          SelectEvents(db, filter, SubjectRule::kSubject, filter.until_position, fetch, &events);
      !status.ok()) {
    return status;
  }
  if (!filter.subject.empty()) {
    // The integration_downs that cut the member off, up to where the page already ends: a
    // few events at most, merged in position order.
    std::optional<std::int64_t> bound = filter.until_position;
    if (events.size() == static_cast<std::size_t>(fetch)) bound = events.back().position;
    std::vector<Event> cut_off;
    if (Status status = SelectEvents(db, filter, SubjectRule::kCutOff, bound, fetch, &cut_off);
        !status.ok()) {
      return status;
    }
    if (!cut_off.empty()) {
      std::vector<Event> merged;
      merged.reserve(events.size() + cut_off.size());
      std::merge(std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()),
                 std::make_move_iterator(cut_off.begin()), std::make_move_iterator(cut_off.end()),
                 std::back_inserter(merged),
                 [](const Event& a, const Event& b) { return a.position < b.position; });
      // An event both about the member and cutting them off appears once.
      merged.erase(
          std::unique(merged.begin(), merged.end(),
                      [](const Event& a, const Event& b) { return a.position == b.position; }),
          merged.end());
      events = std::move(merged);
    }
  }
  Page page;
  if (events.size() > limit) {
    events.resize(limit);
    page.next_after = events.back().position;
  }
  page.events = std::move(events);
  return page;
}

Result<std::vector<Event>> ReadStreamEvents(Database& db, const std::string& stream,
                                            std::int64_t after_version) {
  static const std::string kSql = std::string(kSelectEvents) +
                                  " WHERE e.stream_id = (SELECT id FROM streams WHERE name = ?)"
                                  " AND e.version > ? ORDER BY e.version";
  Statement s = db.GetCachedStatement(kSql);
  s.BindText(0, stream);
  s.BindInt64(1, after_version);
  std::vector<Event> events;
  while (s.Step()) events.push_back(ReadEvent(s));
  if (!s.Succeeded()) return s.status();
  return events;
}

Result<std::vector<Event>> FindCommandEvents(Database& db, const std::string& tenant,
                                             const std::string& command_id) {
  Transaction snapshot(&db);  // the command row and its events from the same moment
  if (Status status = snapshot.BeginRead(); !status.ok()) return status;
  Result<std::optional<CommandRow>> command = FindCommand(db, tenant, command_id);
  if (!command.ok()) return command.status();
  std::vector<Event> events;
  if (command->has_value()) {
    Status status = ReadCommandEvents(db, tenant, command_id, **command, &events);
    if (!status.ok()) return status;
  }
  return events;
}

// Reads only the columns state is rebuilt from, without the join on streams (names come from
// a map read once) and into one reused Event, so a replay allocates almost nothing per event.
Status ReplayEvents(Database& db, std::int64_t after, std::optional<std::int64_t> until,
                    const std::string& tenant, const std::function<bool(const Event&)>& visit) {
  Transaction snapshot(&db);  // the names and the events from the same moment
  if (Status status = snapshot.BeginRead(); !status.ok()) return status;
  // Every name up front for a whole replay; one tenant's are looked up as they come (streams
  // has no index on tenant, and a tenant has few of the log's streams).
  StreamNames names(db);
  if (tenant.empty()) {
    if (Status status = names.LoadAll(); !status.ok()) return status;
  }
  Statement s = db.GetCachedStatement(
      tenant.empty()
          ? "SELECT position, stream_id, version, type, tenant, occurred_at, format, data "
            "FROM events WHERE position > ?1 AND position <= ?2 AND ?3 = '' ORDER BY position"
          : "SELECT position, stream_id, version, type, tenant, occurred_at, format, data "
            "FROM events WHERE tenant = ?3 AND position > ?1 AND position <= ?2 "
            "ORDER BY position");
  s.BindInt64(0, after);
  s.BindInt64(1, until.value_or(INT64_MAX));
  s.BindText(2, tenant);
  Event e;
  std::int64_t stream_id = -1;
  while (s.Step()) {
    e.position = s.ColumnInt64(0);
    if (const std::int64_t id = s.ColumnInt64(1); id != stream_id) {
      Result<std::string_view> name = names.Get(id);
      if (!name.ok()) {
        if (name.status().code() != Status::Code::kCorruption) return name.status();
        return Status::Corruption("event " + std::to_string(e.position) + " has no stream " +
                                  std::to_string(id));
      }
      e.stream.assign(*name);
      stream_id = id;
    }
    e.version = s.ColumnInt64(2);
    const std::string_view type = s.ColumnText(3);
    e.type.assign(type.data(), type.size());
    const std::string_view event_tenant = s.ColumnText(4);
    e.tenant.assign(event_tenant.data(), event_tenant.size());
    e.occurred_at = s.ColumnInt64(5);
    e.format = static_cast<int>(s.ColumnInt64(6));
    const std::string_view data = s.ColumnText(7);
    e.data.assign(data.data(), data.size());
    if (!visit(e)) return Status::Ok();
  }
  return s.status();
}

Result<std::int64_t> LastStreamVersion(Database& db, const std::string& stream) {
  Statement s = db.GetCachedStatement(
      "SELECT coalesce((SELECT max(version) FROM events "
      "WHERE stream_id = (SELECT id FROM streams WHERE name = ?)), 0)");
  s.BindText(0, stream);
  if (!s.Step()) return s.Succeeded() ? Status::IOError("no row") : s.status();
  return s.ColumnInt64(0);
}

Result<std::int64_t> LastPosition(Database& db) {
  Statement s = db.GetCachedStatement("SELECT coalesce((SELECT max(position) FROM events), 0)");
  if (!s.Step()) return s.Succeeded() ? Status::IOError("no row") : s.status();
  return s.ColumnInt64(0);
}

// recorded_at never decreases along positions, so a binary search over positions finds the
// answer without an index on recorded_at. Should a position be missing (an altered file), a
// full scan answers instead.
Result<std::int64_t> PositionAtTime(Database& db, TimeMs time) {
  Transaction snapshot(&db);
  if (Status status = snapshot.BeginRead(); !status.ok()) return status;
  Result<std::int64_t> head = LastPosition(db);
  if (!head.ok()) return head.status();
  std::int64_t low = 0;           // recorded_at <= time, or 0
  std::int64_t high = *head + 1;  // recorded_at > time, or past the head
  while (high - low > 1) {
    const std::int64_t middle = low + (high - low) / 2;
    Statement s = db.GetCachedStatement("SELECT recorded_at FROM events WHERE position = ?");
    s.BindInt64(0, middle);
    if (!s.Step()) {
      if (!s.Succeeded()) return s.status();
      Statement scan = db.GetCachedStatement(
          "SELECT coalesce((SELECT max(position) FROM events WHERE recorded_at <= ?), 0)");
      scan.BindInt64(0, time);
      if (!scan.Step()) return scan.Succeeded() ? Status::IOError("no row") : scan.status();
      return scan.ColumnInt64(0);
    }
    if (s.ColumnInt64(0) <= time) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return low;
}

Result<std::optional<Snapshot>> ReadSnapshot(Database& db, const std::string& name) {
  Statement s =
      db.GetCachedStatement("SELECT code_version, position, blob FROM snapshots WHERE name = ?");
  s.BindText(0, name);
  if (!s.Step()) {
    if (!s.Succeeded()) return s.status();
    return std::optional<Snapshot>();
  }
  Snapshot snapshot;
  snapshot.name = name;
  snapshot.code_version = static_cast<int>(s.ColumnInt64(0));
  snapshot.position = s.ColumnInt64(1);
  snapshot.blob = std::string(s.ColumnBlob(2));
  return std::optional<Snapshot>(std::move(snapshot));
}

}  // namespace custody::eventstore
