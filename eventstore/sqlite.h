#pragma once

// A thin RAII layer over the SQLite C API, internal to eventstore/.
//
// A Database owns one connection and caches its prepared statements. A Statement either owns
// its sqlite3_stmt (finalized in the destructor) or borrows one from the cache (reset in the
// destructor). Step() returns true while there is a row; the loop reads
//   while (s.Step()) {...}  return s.status();
// A Transaction rolls back in its destructor unless Commit() succeeded. Bind and column
// indexes are 0-based. None of these types is thread-safe: one thread uses a connection at a
// time.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "domain/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace custody::eventstore {

// Maps an SQLite result code to a Status: BUSY/LOCKED → kBusy, FULL → kFull, CORRUPT/NOTADB →
// kCorruption, CONSTRAINT → kConflict, TOOBIG/RANGE → kInvalidArgument, anything else →
// kIOError. `what` says what was being done; SQLite's own message follows it.
Status SqliteStatus(int rc, sqlite3* db, std::string_view what);

class Statement {
 public:
  Statement() = default;
  // An invalid statement that remembers why it could not be prepared: Step() returns false and
  // status() is `error`.
  explicit Statement(Status error) : status_(std::move(error)) {}
  // `in_use` (may be null) is the cache entry's flag, cleared when this borrow ends.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool owned, bool* in_use);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void BindInt64(int index, std::int64_t value);
  // The text and blob are copied: temporaries are fine.
  void BindText(int index, std::string_view text);
  void BindText(int index, std::nullptr_t) = delete;  // would be undefined; say BindNull
  void BindBlob(int index, const void* data, std::size_t size);
  // Not copied: SQLite reads the bytes where they are, so they must stay valid until the
  // statement is closed. For the rows the writer inserts, where the copies were a measurable
  // part of an import.
  void BindTextInPlace(int index, std::string_view text);
  void BindBlobInPlace(int index, const void* data, std::size_t size);
  void BindNull(int index);

  // Runs one step: true when a row is available; false when done or on error (see status()).
  bool Step();
  // Steps to the end, for statements that return no rows.
  Status Run();
  // Rewinds to run again; bindings are kept.
  void Reset();

  bool Succeeded() const { return status_.ok(); }
  const Status& status() const { return status_; }

  std::int64_t ColumnInt64(int column) const;
  bool ColumnIsNull(int column) const;
  // Valid until the next Step(), Reset() or destruction.
  std::string_view ColumnText(int column) const;
  std::string_view ColumnBlob(int column) const;
  std::string ColumnString(int column) const { return std::string(ColumnText(column)); }

 private:
  void Close();
  void CheckBind(int rc);
  void BindTextAs(int index, std::string_view text, void (*lifetime)(void*));
  void BindBlobAs(int index, const void* data, std::size_t size, void (*lifetime)(void*));

  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  bool owned_ = false;
  bool* in_use_ = nullptr;
  Status status_;
};

class Database {
 public:
  enum class Mode { kReadWrite, kReadOnly };

  // Opens (kReadWrite also creates) the file. Nothing is read or written yet, so a foreign file
  // is only detected by the first statement. Sets the busy timeout. `vfs_name` names a
  // registered SQLite VFS (empty: the default); an unknown one is kIOError.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, Mode mode,
                                                const std::string& vfs_name = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // A statement prepared on this connection once and reused. If the same SQL is already
  // borrowed (nested use), a fresh owned statement is returned instead.
  Statement GetCachedStatement(std::string_view sql);
  // A statement prepared now and finalized when it goes away.
  Statement GetUniqueStatement(std::string_view sql);
  // Runs one or more statements that return no rows.
  Status Execute(const char* sql);

  // The single integer of `sql` (e.g. a PRAGMA); kNotFound when there is no row.
  Result<std::int64_t> QueryInt64(std::string_view sql);

  std::int64_t LastInsertRowId() const;
  int Changes() const;
  bool InTransaction() const;
  // Whether SQLite opened the file read-only: asked to, or it fell back because the file
  // cannot be written (its permissions, or a read-only file system).
  bool ReadOnly() const;
  const std::string& path() const { return path_; }
  Mode mode() const { return mode_; }
  sqlite3* handle() const { return db_; }

 private:
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };

  Database(sqlite3* db, std::string path, Mode mode)
      : db_(db), path_(std::move(path)), mode_(mode) {}

  sqlite3* db_;
  std::string path_;
  Mode mode_;
  std::unordered_map<std::string, std::unique_ptr<Cached>> cache_;
};

class Transaction {
 public:
  explicit Transaction(Database* db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // BEGIN IMMEDIATE: takes the write lock now, so the commit cannot fail on a lock upgrade.
  Status Begin();
  // BEGIN (deferred): a consistent snapshot for several reads.
  Status BeginRead();
  Status Commit();
  void Rollback();

 private:
  Status Start(std::string_view sql);

  Database* db_;
  bool active_ = false;
};

}  // namespace custody::eventstore
