#pragma once

// Rows of the events, streams and commands tables (schema.cc), shared by the writer and the
// readers. Every function runs cached statements on the given connection.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/event.h"
#include "domain/status.h"
#include "eventstore/encoding.h"
#include "eventstore/sqlite.h"

namespace custody::eventstore {

// "SELECT <every event column> FROM events e ... s": append a WHERE clause. ReadEvent()
// reads its columns; `e` is the events table and `s` the event's stream.
inline constexpr std::string_view kSelectEvents =
    "SELECT e.position, e.id, s.name, e.version, e.type, e.tenant, e.actor, e.subject, "
    "e.occurred_at, e.recorded_at, e.command_id, e.correlation_id, e.source_ip, "
    "e.source_user_agent, e.data, e.prev_hash, e.hash, e.format, e.source_token "
    "FROM events e CROSS JOIN streams s ON s.id = e.stream_id";

// The current row of a statement built on kSelectEvents.
Event ReadEvent(const Statement& statement);

// Lower-case hex of any bytes (a stored hash that is not 32 bytes still shows as it is).
std::string BytesToHex(std::string_view bytes);

// Appends the events first..last (inclusive), ascending.
Status ReadEventRange(Database& db, std::int64_t first, std::int64_t last, std::vector<Event>* out);

// The last event's position, hash and recorded_at; zeros and the genesis hash when empty.
struct Head {
  std::int64_t position = 0;
  Digest hash{};
  TimeMs recorded_at = 0;
};
Result<Head> ReadHead(Database& db);

struct StreamRow {
  std::int64_t id = 0;
  std::string tenant;
  std::int64_t version = 0;  // of its last event
};
// nullopt when no stream has this name.
Result<std::optional<StreamRow>> FindStream(Database& db, std::string_view name);
// The new stream's id.
Result<std::int64_t> InsertStream(Database& db, std::string_view name, std::string_view tenant);

// Stream names by id, read as they are asked for (or all at once) and kept, for walks of the
// events table without the join on streams.
class StreamNames {
 public:
  explicit StreamNames(Database& db) : db_(db) {}
  // Reads every name now: cheaper than a lookup per stream when a walk covers the whole log.
  Status LoadAll();
  // The name of stream `id`; kCorruption when no stream has that id.
  Result<std::string_view> Get(std::int64_t id);

 private:
  Database& db_;
  std::unordered_map<std::int64_t, std::string> names_;
};

struct CommandRow {
  std::int64_t first_position = 0;
  std::int64_t event_count = 0;
};
Result<std::optional<CommandRow>> FindCommand(Database& db, std::string_view tenant,
                                              std::string_view command_id);
Status InsertCommand(Database& db, std::string_view tenant, std::string_view command_id,
                     const CommandRow& row);
// More events than any command writes (a removal writes at most four).
inline constexpr std::int64_t kMaxCommandEvents = 64;

// Whether `row` can be one the log wrote, in a log whose head is `head`: 1 to
// kMaxCommandEvents events, from position 1 on, none past the head. Any numbers may be read
// from an altered file: none is summed that could overflow.
inline bool CommandRowFits(const CommandRow& row, std::int64_t head) {
  return row.first_position >= 1 && row.event_count >= 1 && row.event_count <= kMaxCommandEvents &&
         row.first_position <= head - row.event_count + 1;
}

// Appends the events of command `command_id` of `tenant`, found at `row`, to `out`;
// kCorruption unless they are exactly that command's events. The commands table is outside
// the hash chain: an altered row must never answer a retry with other events, or some of its
// own, or none.
Status ReadCommandEvents(Database& db, std::string_view tenant, std::string_view command_id,
                         const CommandRow& row, std::vector<Event>* out);

// Inserts `event` (all fields set) into stream `stream_id`; hashes are stored as raw bytes.
Status InsertEvent(Database& db, std::int64_t stream_id, const EventView& event,
                   const Digest& prev_hash, const Digest& hash);

}  // namespace custody::eventstore
