#include "bench/sqlite_baseline.h"

#include <sqlite3.h>

#include <optional>
#include <unordered_map>

#include "bench/common.h"
#include "eventstore/encoding.h"

namespace custody::bench {
namespace {

constexpr char kSchema[] = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA cache_size = -65536;
PRAGMA temp_store = MEMORY;
CREATE TABLE IF NOT EXISTS streams (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS events (
  position INTEGER PRIMARY KEY, stream_id INTEGER NOT NULL, version INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL, occurred_at INTEGER NOT NULL, format INTEGER NOT NULL,
  prev_hash BLOB NOT NULL, hash BLOB NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
  tenant TEXT NOT NULL, actor TEXT NOT NULL, subject TEXT NOT NULL, command_id TEXT NOT NULL,
  correlation_id TEXT NOT NULL, source_ip TEXT NOT NULL, source_user_agent TEXT NOT NULL,
  data TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream_version ON events (stream_id, version);
)sql";

constexpr char kQueryIndexes[] = R"sql(
CREATE INDEX events_by_tenant ON events (tenant);
CREATE INDEX events_by_type ON events (type);
CREATE INDEX events_by_actor ON events (actor);
CREATE INDEX events_by_subject ON events (subject);
CREATE INDEX events_by_occurred_at ON events (occurred_at);
)sql";

constexpr char kInsert[] =
    "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

struct Row {
  const Event* event;
  eventstore::Digest prev;
  eventstore::Digest hash;
};

class Plain {
 public:
  explicit Plain(const std::string& path) {
    if (sqlite3_open(path.c_str(), &db_) != SQLITE_OK) {
      Fail("open");
    } else if (sqlite3_exec(db_, kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) {
      Fail("schema");
    } else if (sqlite3_prepare_v2(db_, kInsert, -1, &insert_, nullptr) != SQLITE_OK ||
               sqlite3_prepare_v2(db_, "INSERT INTO streams (name) VALUES (?)", -1, &stream_,
                                  nullptr) != SQLITE_OK) {
      Fail("prepare");
    }
  }
  ~Plain() {
    sqlite3_finalize(insert_);
    sqlite3_finalize(stream_);
    sqlite3_close(db_);
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  bool Exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK) return true;
    Fail(sql);
    return false;
  }

  bool Insert(const Row& row, std::int64_t position, std::int64_t version) {
    const Event& e = *row.event;
    std::int64_t& stream = streams_[e.stream];
    if (stream == 0) {
      sqlite3_bind_text(stream_, 1, e.stream.data(), int(e.stream.size()), SQLITE_STATIC);
      if (sqlite3_step(stream_) != SQLITE_DONE) {
        Fail("insert stream");
        return false;
      }
      sqlite3_reset(stream_);
      stream = sqlite3_last_insert_rowid(db_);
    }
    sqlite3_stmt* s = insert_;
    sqlite3_bind_int64(s, 1, position);
    sqlite3_bind_int64(s, 2, stream);
    sqlite3_bind_int64(s, 3, version);
    sqlite3_bind_int64(s, 4, e.recorded_at);
    sqlite3_bind_int64(s, 5, e.occurred_at);
    sqlite3_bind_int64(s, 6, e.format);
    sqlite3_bind_blob(s, 7, row.prev.data(), 32, SQLITE_STATIC);
    sqlite3_bind_blob(s, 8, row.hash.data(), 32, SQLITE_STATIC);
    int column = 9;
    for (const std::string* text :
         {&e.id, &e.type, &e.tenant, &e.actor, &e.subject, &e.command_id, &e.correlation_id,
          &e.source.ip, &e.source.user_agent, &e.data}) {
      sqlite3_bind_text(s, column++, text->data(), int(text->size()), SQLITE_STATIC);
    }
    const bool done = sqlite3_step(s) == SQLITE_DONE;
    sqlite3_reset(s);
    if (!done) Fail("insert event");
    return done;
  }

 private:
  void Fail(const std::string& what) {
    if (error_.empty()) error_ = what + ": " + (db_ ? sqlite3_errmsg(db_) : "no connection");
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* stream_ = nullptr;
  std::unordered_map<std::string, std::int64_t> streams_;
  std::string error_;
};

std::vector<Row> Rows(const std::vector<Event>& events) {
  std::vector<Row> rows(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    rows[i].event = &events[i];
    eventstore::FromHex(events[i].prev_hash, &rows[i].prev);
    eventstore::FromHex(events[i].hash, &rows[i].hash);
  }
  return rows;
}

}  // namespace

PlainResult PlainBulkInsert(const std::string& path, const std::vector<Event>& events,
                            std::size_t batch, QueryIndexes query_indexes) {
  PlainResult result;
  const std::vector<Row> rows = Rows(events);  // hex decoding is not the baseline's work
  std::optional<Plain> plain(std::in_place, path);
  if (query_indexes == QueryIndexes::kWhileInserting) plain->Exec(kQueryIndexes);
  const auto start = Clock::now();
  for (std::size_t i = 0; plain->ok() && i < rows.size(); i += batch) {
    if (!plain->Exec("BEGIN")) break;
    for (std::size_t j = i; j < std::min(rows.size(), i + batch); ++j) {
      if (!plain->Insert(rows[j], events[j].position, events[j].version)) break;
    }
    if (!plain->ok() || !plain->Exec("COMMIT")) break;
  }
  if (plain->ok() && query_indexes == QueryIndexes::kBuiltAfter) {
    // One transaction, as custody builds them.
    if (plain->Exec("BEGIN") && plain->Exec(kQueryIndexes)) plain->Exec("COMMIT");
  }
  result.ok = plain->ok();
  result.error = plain->error();
  plain.reset();  // up to the closed file, as custody's figure: closing checkpoints the WAL
  result.seconds = SecondsSince(start);
  result.events = static_cast<std::int64_t>(events.size());
  return result;
}

PlainResult PlainCommitCeiling(const std::string& path, const std::vector<Event>& sample,
                               double seconds) {
  PlainResult result;
  const std::vector<Row> rows = Rows(sample);
  Plain plain(path);
  const auto start = Clock::now();
  std::int64_t position = 0;
  while (plain.ok() && SecondsSince(start) < seconds) {
    const auto begin = Clock::now();
    const Row& row = rows[position % rows.size()];
    ++position;
    if (!plain.Exec("BEGIN") || !plain.Insert(row, position, position) || !plain.Exec("COMMIT")) {
      break;
    }
    result.latencies_ms.push_back(SecondsSince(begin) * 1000);
  }
  result.seconds = SecondsSince(start);
  result.ok = plain.ok();
  result.error = plain.error();
  result.events = static_cast<std::int64_t>(result.latencies_ms.size());
  return result;
}

PlainResult PlainScan(const std::string& path) {
  PlainResult result;
  sqlite3* db = nullptr;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT * FROM events ORDER BY position", -1, &s, nullptr) !=
          SQLITE_OK) {
    result.error = sqlite3_errmsg(db);
    sqlite3_close(db);
    return result;
  }
  const auto start = Clock::now();
  std::int64_t bytes = 0;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int columns = sqlite3_column_count(s);
    for (int c = 0; c < columns; ++c) {
      if (sqlite3_column_type(s, c) == SQLITE_INTEGER) {
        bytes += sqlite3_column_int64(s, c) & 1;
      } else {
        const void* data = sqlite3_column_blob(s, c);
        bytes += sqlite3_column_bytes(s, c) + (data != nullptr);
      }
    }
    ++result.events;
  }
  result.seconds = SecondsSince(start);
  result.ok = rc == SQLITE_DONE && bytes > 0;
  if (!result.ok) result.error = sqlite3_errmsg(db);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return result;
}

}  // namespace custody::bench
