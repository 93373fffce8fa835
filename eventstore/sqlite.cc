#include "eventstore/sqlite.h"

#include <sqlite3.h>

#include <utility>

namespace custody::eventstore {
namespace {

// How long a connection waits for another one's lock before giving up with kBusy.
constexpr int kBusyTimeoutMs = 5000;

// SQLite's memory statistics take a process-wide mutex on every allocation, which every
// connection of every thread then contends for; custody reads none of them. Only possible
// before SQLite initializes: if something initialized it first, they simply stay on.
void DisableMemoryStatistics() {
  static const bool done = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)done;
}

}  // namespace

Status SqliteStatus(int rc, sqlite3* db, std::string_view what) {
  std::string message(what);
  message += ": ";
  // sqlite3_errmsg describes the last call on `db`, which is the one that failed.
  message += db != nullptr && sqlite3_errcode(db) == rc ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(std::move(message));
    case SQLITE_FULL:
      return Status::Full(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(std::move(message));
    case SQLITE_CONSTRAINT:
      return Status::Conflict(std::move(message));
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return Status::InvalidArgument(std::move(message));
    case SQLITE_READONLY:
      // Permissions, most often: SQLite's words do not say that even a reader of a WAL
      // database must be able to create the -shm file beside it.
      message +=
          " (this user cannot write the file, or its folder and the -wal and -shm files beside "
          "it: a writer needs them all, a reader needs the folder or an existing -shm)";
      [[fallthrough]];
    default:
      return Status::IOError(std::move(message));
  }
}

// --- Statement ---

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, bool owned, bool* in_use)
    : db_(db), stmt_(stmt), owned_(owned), in_use_(in_use) {}

Statement::~Statement() { Close(); }

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      owned_(other.owned_),
      in_use_(std::exchange(other.in_use_, nullptr)),
      status_(std::move(other.status_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    Close();
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
    owned_ = other.owned_;
    in_use_ = std::exchange(other.in_use_, nullptr);
    status_ = std::move(other.status_);
  }
  return *this;
}

void Statement::Close() {
  if (stmt_ != nullptr) {
    if (owned_) {
      sqlite3_finalize(stmt_);
    } else {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  if (in_use_ != nullptr) *in_use_ = false;
  stmt_ = nullptr;
  in_use_ = nullptr;
}

void Statement::CheckBind(int rc) {
  if (rc != SQLITE_OK && status_.ok()) status_ = SqliteStatus(rc, db_, "bind");
}

void Statement::BindInt64(int index, std::int64_t value) {
  if (stmt_ != nullptr) CheckBind(sqlite3_bind_int64(stmt_, index + 1, value));
}

void Statement::BindTextAs(int index, std::string_view text, void (*lifetime)(void*)) {
  if (stmt_ == nullptr) return;
  // A non-null pointer even for "", so that SQLite stores '' rather than NULL.
  CheckBind(sqlite3_bind_text64(stmt_, index + 1, text.empty() ? "" : text.data(), text.size(),
                                lifetime, SQLITE_UTF8));
}

void Statement::BindBlobAs(int index, const void* data, std::size_t size, void (*lifetime)(void*)) {
  if (stmt_ == nullptr) return;
  static const char kEmpty = 0;
  CheckBind(sqlite3_bind_blob64(stmt_, index + 1, size == 0 ? &kEmpty : data, size, lifetime));
}

void Statement::BindText(int index, std::string_view text) {
  BindTextAs(index, text, SQLITE_TRANSIENT);
}

void Statement::BindBlob(int index, const void* data, std::size_t size) {
  BindBlobAs(index, data, size, SQLITE_TRANSIENT);
}

void Statement::BindTextInPlace(int index, std::string_view text) {
  BindTextAs(index, text, SQLITE_STATIC);
}

void Statement::BindBlobInPlace(int index, const void* data, std::size_t size) {
  BindBlobAs(index, data, size, SQLITE_STATIC);
}

void Statement::BindNull(int index) {
  if (stmt_ != nullptr) CheckBind(sqlite3_bind_null(stmt_, index + 1));
}

bool Statement::Step() {
  if (stmt_ == nullptr || !status_.ok()) return false;
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = SqliteStatus(rc, db_, "step");
  return false;
}

Status Statement::Run() {
  while (Step()) {
  }
  return status_;
}

void Statement::Reset() {
  if (stmt_ != nullptr) sqlite3_reset(stmt_);
}

std::int64_t Statement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string_view Statement::ColumnText(int column) const {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  if (text == nullptr) return {};
  return {text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

std::string_view Statement::ColumnBlob(int column) const {
  const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  if (blob == nullptr) return {};
  return {blob, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))};
}

// --- Database ---

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, Mode mode,
                                                 const std::string& vfs_name) {
  DisableMemoryStatistics();
  // NOMUTEX: a connection is used by one thread at a time, so SQLite's own mutex is waste.
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |=
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, flags, vfs_name.empty() ? nullptr : vfs_name.c_str());
  if (rc != SQLITE_OK) {
    Status status = SqliteStatus(rc, db, "open " + path);
    sqlite3_close_v2(db);
    if ((rc & 0xff) == SQLITE_CANTOPEN && mode == Mode::kReadOnly) {
      return Status::NotFound(status.message());
    }
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  return std::unique_ptr<Database>(new Database(db, path, mode));
}

bool Database::ReadOnly() const { return sqlite3_db_readonly(db_, "main") == 1; }

Database::~Database() {
  for (auto& [sql, cached] : cache_) sqlite3_finalize(cached->stmt);
  sqlite3_close_v2(db_);
}

Statement Database::GetCachedStatement(std::string_view sql) {
  auto it = cache_.find(std::string(sql));
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Statement(SqliteStatus(rc, db_, "prepare"));
    auto cached = std::make_unique<Cached>();
    cached->stmt = stmt;
    it = cache_.emplace(std::string(sql), std::move(cached)).first;
  }
  Cached& cached = *it->second;
  if (cached.in_use) return GetUniqueStatement(sql);
  cached.in_use = true;
  return Statement(db_, cached.stmt, /*owned=*/false, &cached.in_use);
}

Statement Database::GetUniqueStatement(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Statement(SqliteStatus(rc, db_, "prepare"));
  return Statement(db_, stmt, /*owned=*/true, nullptr);
}

Status Database::Execute(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, "execute");
  return Status::Ok();
}

Result<std::int64_t> Database::QueryInt64(std::string_view sql) {
  Statement statement = GetUniqueStatement(sql);
  if (!statement.Step()) {
    if (!statement.Succeeded()) return statement.status();
    return Status::NotFound("no row for: " + std::string(sql));
  }
  return statement.ColumnInt64(0);
}

std::int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int Database::Changes() const { return sqlite3_changes(db_); }

bool Database::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

// --- Transaction ---

Transaction::~Transaction() { Rollback(); }

Status Transaction::Start(std::string_view sql) {
  Status status = db_->GetCachedStatement(sql).Run();
  active_ = status.ok();
  return status;
}

Status Transaction::Begin() { return Start("BEGIN IMMEDIATE"); }

Status Transaction::BeginRead() { return Start("BEGIN"); }

Status Transaction::Commit() {
  Status status = db_->GetCachedStatement("COMMIT").Run();
  if (status.ok()) active_ = false;
  return status;
}

void Transaction::Rollback() {
  if (!active_) return;
  active_ = false;
  // After some errors SQLite has already rolled back on its own; a second ROLLBACK would fail.
  if (db_->InTransaction()) db_->GetCachedStatement("ROLLBACK").Run();
}

}  // namespace custody::eventstore
