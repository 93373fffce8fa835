#pragma once

// The on-disk format: identifying constants and schema creation/upgrade. docs/STORAGE.md
// describes the tables; change both together.

#include <cstdint>
#include <memory>
#include <string>

#include "domain/status.h"
#include "eventstore/sqlite.h"

namespace custody::eventstore {

// PRAGMA application_id of every custody database: "CUST" in ASCII.
inline constexpr std::int64_t kApplicationId = 0x43555354;
// PRAGMA user_version this code writes. Older files are upgraded on open; newer ones refused.
inline constexpr std::int64_t kSchemaVersion = 2;

struct OpenOptions {
  Database::Mode mode = Database::Mode::kReadWrite;
  bool synchronous_full = true;
  std::string vfs_name = {};  // empty: SQLite's default VFS
  // kReadWrite: bring an older file to this code's schema (and create missing query indexes).
  // False leaves an existing file's schema as it is (a new one is still created): for the
  // token store, whose table is the same in every version, beside a server of another version.
  bool upgrade = true;
};

// Opens a connection to the custody database at `path`, checking that it is one:
// - not an SQLite file, or an SQLite file of another application: kCorruption;
// - written by a newer schema version: kNotSupported;
// - kReadOnly and missing or without schema: kNotFound.
// In kReadWrite mode a new or empty file gets the schema, an older one is upgraded, and the
// connection is switched to WAL with the requested synchronous level; in kReadOnly mode an
// older file is read as it is. Errors leave the file as it was.
Result<std::unique_ptr<Database>> OpenCustodyDatabase(const std::string& path,
                                                      const OpenOptions& options);

// The indexes of history's filters, which a bulk import drops and builds again at its end.
// Whether all of them exist.
Result<bool> HasQueryIndexes(Database& db);
// Creates those that are missing. Inside the caller's transaction when one is open.
Status CreateQueryIndexes(Database& db);
Status DropQueryIndexes(Database& db);

// The triggers that refuse an INSERT rewriting or skipping history (docs/STORAGE.md). A bulk
// import, which checks the same rules itself, drops them inside its transaction and creates them
// again before it commits: a trigger runs a sub-program for every row. Both inside the caller's
// transaction; one that was missing before is there after.
Status DropInsertGuards(Database& db);
Status CreateInsertGuards(Database& db);

}  // namespace custody::eventstore
