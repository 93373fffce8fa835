#include "eventstore/schema.h"

#include <cstdio>
#include <string_view>

namespace custody::eventstore {
namespace {

// Version 1. Columns are ordered small and fixed first, `data` last, so that reading hashes and
// filter columns never walks a large payload's overflow pages. Empty strings are stored as ''.
// Single-column indexes are in position order within a key: SQLite appends the rowid
// (position) to every index entry.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE streams (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL
);
CREATE TABLE events (
  position INTEGER PRIMARY KEY,
  stream_id INTEGER NOT NULL REFERENCES streams (id),
  version INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  occurred_at INTEGER NOT NULL,
  format INTEGER NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL,
  id TEXT NOT NULL,
  type TEXT NOT NULL,
  tenant TEXT NOT NULL,
  actor TEXT NOT NULL,
  subject TEXT NOT NULL,
  command_id TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  source_ip TEXT NOT NULL,
  source_user_agent TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE UNIQUE INDEX events_by_stream_version ON events (stream_id, version);

-- The first append of each (tenant, command_id): its events are the positions
-- first_position .. first_position + event_count - 1.
CREATE TABLE commands (
  tenant TEXT NOT NULL,
  command_id TEXT NOT NULL,
  first_position INTEGER NOT NULL,
  event_count INTEGER NOT NULL,
  PRIMARY KEY (tenant, command_id)
) WITHOUT ROWID;

-- History is append-only in the database itself: no UPDATE, no DELETE. The INSERT triggers
-- (kInsertGuards below) are part of version 1 too.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'custody: events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'custody: events are append-only'); END;
CREATE TRIGGER streams_no_update BEFORE UPDATE ON streams
BEGIN SELECT RAISE(ABORT, 'custody: streams are append-only'); END;
CREATE TRIGGER streams_no_delete BEFORE DELETE ON streams
BEGIN SELECT RAISE(ABORT, 'custody: streams are append-only'); END;
CREATE TRIGGER commands_no_update BEFORE UPDATE ON commands
BEGIN SELECT RAISE(ABORT, 'custody: commands are append-only'); END;
CREATE TRIGGER commands_no_delete BEFORE DELETE ON commands
BEGIN SELECT RAISE(ABORT, 'custody: commands are append-only'); END;

-- Mutable: projections' snapshots are replaced, tokens are revoked.
CREATE TABLE snapshots (
  name TEXT PRIMARY KEY,
  code_version INTEGER NOT NULL,
  position INTEGER NOT NULL,
  blob BLOB NOT NULL
);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('operator', 'writer', 'reviewer')),
  tenant TEXT NOT NULL,
  name TEXT NOT NULL,
  secret_hash BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
)sql";

// The INSERT triggers of version 1. They stop INSERT OR REPLACE from overwriting a row (REPLACE
// does not fire DELETE triggers); events_append_at_head also keeps positions gapless. The bare
// max() subquery is one b-tree seek; wrapped in coalesce() inside, SQLite would scan the table.
// Every import creates them again from this table, so a migration that changes one of them must
// change it here too.
struct Trigger {
  std::string_view name;
  const char* create;
};
constexpr Trigger kInsertGuards[] = {
    {"events_append_at_head",
     "CREATE TRIGGER events_append_at_head BEFORE INSERT ON events\n"
     "WHEN NEW.position IS NOT 1 + coalesce((SELECT max(position) FROM events), 0)\n"
     "BEGIN SELECT RAISE(ABORT, 'custody: events are appended at position head + 1'); END"},
    {"commands_no_replace",
     "CREATE TRIGGER commands_no_replace BEFORE INSERT ON commands\n"
     "WHEN EXISTS (SELECT 1 FROM commands WHERE tenant = NEW.tenant AND command_id = "
     "NEW.command_id)\n"
     "BEGIN SELECT RAISE(ABORT, 'custody: commands are append-only'); END"},
    {"streams_no_replace",
     "CREATE TRIGGER streams_no_replace BEFORE INSERT ON streams\n"
     "WHEN EXISTS (SELECT 1 FROM streams WHERE name = NEW.name OR id = NEW.id)\n"
     "BEGIN SELECT RAISE(ABORT, 'custody: streams are append-only'); END"},
};

// The indexes of history's filters (a stream's events use events_by_stream_version). They only
// make reads faster, so a bulk import into an empty log drops them and builds them once at the
// end, by sorting, rather than one random b-tree insert per event and index. Opening for
// writing creates any that is missing.
struct QueryIndex {
  std::string_view name;
  std::string_view column;
};
constexpr QueryIndex kQueryIndexes[] = {
    {"events_by_tenant", "tenant"},
    {"events_by_type", "type"},
    {"events_by_actor", "actor"},
    {"events_by_subject", "subject"},
    {"events_by_occurred_at", "occurred_at"},
};

// Drops every schema object of `kind` ("INDEX", "TRIGGER") named in `objects`, if it exists.
template <typename Object, std::size_t N>
Status DropEach(Database& db, std::string_view kind, const Object (&objects)[N]) {
  for (const Object& object : objects) {
    const std::string drop = "DROP " + std::string(kind) + " IF EXISTS " + std::string(object.name);
    if (Status status = db.Execute(drop.c_str()); !status.ok()) return status;
  }
  return Status::Ok();
}

Status MigrateToV1(Database& db) {
  if (Status status = db.Execute(kSchemaV1); !status.ok()) return status;
  return CreateInsertGuards(db);
}

// Version 2: events record the API token that sent their command (event format 2,
// `source.token`). SQLite appends the column to every row without rewriting the log; the rows
// of format 1 hold ''.
constexpr char kAddSourceToken[] =
    "ALTER TABLE events ADD COLUMN source_token TEXT NOT NULL DEFAULT ''";

Status MigrateToV2(Database& db) { return db.Execute(kAddSourceToken); }

// kMigrations[v - 1] brings user_version v - 1 to v.
constexpr Status (*kMigrations[])(Database&) = {MigrateToV1, MigrateToV2};
static_assert(std::size(kMigrations) == kSchemaVersion);

std::string Hex32(std::int64_t value) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "0x%08llx", static_cast<unsigned long long>(value));
  return buffer;
}

struct Header {
  std::int64_t application_id = 0;
  std::int64_t user_version = 0;
  std::int64_t objects = 0;  // rows of sqlite_schema
};

Result<Header> ReadHeader(Database& db) {
  Header header;
  // The first read is where a file that is not SQLite fails, with SQLITE_NOTADB.
  Result<std::int64_t> objects = db.QueryInt64("SELECT count(*) FROM sqlite_schema");
  if (!objects.ok()) {
    if (objects.status().code() == Status::Code::kCorruption) {
      return Status::Corruption(db.path() + " is not a custody database (" +
                                objects.status().message() + ")");
    }
    return objects.status();
  }
  header.objects = *objects;
  Result<std::int64_t> id = db.QueryInt64("PRAGMA application_id");
  if (!id.ok()) return id.status();
  header.application_id = *id;
  Result<std::int64_t> version = db.QueryInt64("PRAGMA user_version");
  if (!version.ok()) return version.status();
  header.user_version = *version;
  return header;
}

// kOk when the file can be used (possibly after an upgrade), the reason otherwise.
Status Check(const Header& header, const std::string& path) {
  const bool empty = header.objects == 0 && header.application_id == 0;
  if (!empty && header.application_id != kApplicationId) {
    return Status::Corruption(path + " is not a custody database (application_id " +
                              Hex32(header.application_id) + ")");
  }
  if (header.user_version > kSchemaVersion) {
    return Status::NotSupported(path + " has schema version " +
                                std::to_string(header.user_version) + ", newer than this code (" +
                                std::to_string(kSchemaVersion) + ")");
  }
  return Status::Ok();
}

Status Upgrade(Database& db) {
  Transaction transaction(&db);
  if (Status status = transaction.Begin(); !status.ok()) return status;
  // Read again under the write lock: another process may have created the schema meanwhile.
  Result<Header> header = ReadHeader(db);
  if (!header.ok()) return header.status();
  if (Status status = Check(*header, db.path()); !status.ok()) return status;
  for (std::int64_t version = header->user_version; version < kSchemaVersion; ++version) {
    if (Status status = kMigrations[version](db); !status.ok()) return status;
  }
  const std::string pragmas = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                              "; PRAGMA user_version = " + std::to_string(kSchemaVersion) + ";";
  if (Status status = db.Execute(pragmas.c_str()); !status.ok()) return status;
  return transaction.Commit();
}

}  // namespace

Result<std::unique_ptr<Database>> OpenCustodyDatabase(const std::string& path,
                                                      const OpenOptions& options) {
  Result<std::unique_ptr<Database>> opened = Database::Open(path, options.mode, options.vfs_name);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<Database> db = std::move(opened).value();

  Result<Header> header = ReadHeader(*db);
  if (!header.ok()) return header.status();
  if (Status status = Check(*header, path); !status.ok()) return status;

  if (options.mode == Database::Mode::kReadOnly) {
    if (header->user_version == 0) return Status::NotFound(path + " holds no custody database");
    // A reader never upgrades (an auditor may hold a read-only copy): a version 1 file is read
    // through a temporary view that adds the column version 2 appends, empty as it would be.
    if (header->user_version == 1) {
      if (Status status = db->Execute(
              "CREATE TEMP VIEW events AS SELECT *, '' AS source_token FROM main.events");
          !status.ok()) {
        return status;
      }
    }
    if (Status status = db->Execute("PRAGMA query_only = ON"); !status.ok()) return status;
    return db;
  }

  // Only now that the file is known to be ours may anything be written to it.
  if (Status status = db->Execute("PRAGMA journal_mode = WAL"); !status.ok()) return status;
  const char* synchronous =
      options.synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
  if (Status status = db->Execute(synchronous); !status.ok()) return status;
  // A bulk import or a large batch dirties pages of eight b-trees at once; with SQLite's 2 MiB
  // default the cache spills the same pages to the WAL again and again.
  // Statement journals (one per INSERT inside a transaction, since the triggers may abort it)
  // stay in memory instead of going through a temporary file.
  if (Status status = db->Execute("PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY");
      !status.ok()) {
    return status;
  }
  if (header->user_version < kSchemaVersion && (options.upgrade || header->user_version == 0)) {
    if (Status status = Upgrade(*db); !status.ok()) return status;
  }
  if (!options.upgrade) return db;
  Result<bool> indexed = HasQueryIndexes(*db);
  if (!indexed.ok()) return indexed.status();
  if (!*indexed) {
    if (Status status = CreateQueryIndexes(*db); !status.ok()) return status;
  }
  return db;
}

Result<bool> HasQueryIndexes(Database& db) {
  Statement s = db.GetCachedStatement(
      "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN (?, ?, ?, ?, ?)");
  static_assert(std::size(kQueryIndexes) == 5);
  for (std::size_t i = 0; i < std::size(kQueryIndexes); ++i) {
    s.BindText(static_cast<int>(i), kQueryIndexes[i].name);
  }
  if (!s.Step()) return s.Succeeded() ? Status::Corruption("sqlite_schema: no count") : s.status();
  return s.ColumnInt64(0) == static_cast<std::int64_t>(std::size(kQueryIndexes));
}

Status CreateQueryIndexes(Database& db) {
  for (const QueryIndex& index : kQueryIndexes) {
    const std::string create = "CREATE INDEX IF NOT EXISTS " + std::string(index.name) +
                               " ON events (" + std::string(index.column) + ")";
    if (Status status = db.Execute(create.c_str()); !status.ok()) return status;
  }
  return Status::Ok();
}

Status DropQueryIndexes(Database& db) { return DropEach(db, "INDEX", kQueryIndexes); }

Status DropInsertGuards(Database& db) { return DropEach(db, "TRIGGER", kInsertGuards); }

Status CreateInsertGuards(Database& db) {
  for (const Trigger& trigger : kInsertGuards) {
    if (Status status = db.Execute(trigger.create); !status.ok()) return status;
  }
  return Status::Ok();
}

}  // namespace custody::eventstore
