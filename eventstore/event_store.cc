#include "eventstore/event_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>
#include <utility>

#include "eventstore/reads.h"
#include "eventstore/schema.h"
#include "eventstore/writer.h"

namespace custody::eventstore {
namespace {

// Events per read when Scan walks the log: bounds its memory.
constexpr std::size_t kScanBatch = 512;

// Read-only connections lent to one caller at a time. When all are lent, another is opened
// rather than waiting, so that a Scan callback that queries again cannot deadlock; at most
// `keep` idle ones are kept.
class ReadPool {
 public:
  ReadPool(std::string path, int keep, std::string vfs_name)
      : path_(std::move(path)), keep_(keep < 1 ? 1 : keep), vfs_name_(std::move(vfs_name)) {}

  class Lease {
   public:
    Lease(ReadPool* pool, std::unique_ptr<Database> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (db_ != nullptr) pool_->Return(std::move(db_));
    }
    Database& operator*() const { return *db_; }

   private:
    ReadPool* pool_;
    std::unique_ptr<Database> db_;
  };

  Result<Lease> Acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        std::unique_ptr<Database> db = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(db));
      }
    }
    Result<std::unique_ptr<Database>> db =
        OpenCustodyDatabase(path_, OpenOptions{Database::Mode::kReadOnly, true, vfs_name_});
    if (!db.ok()) return db.status();
    return Lease(this, std::move(db).value());
  }

  void Clear() {
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

 private:
  void Return(std::unique_ptr<Database> db) {
    std::lock_guard lock(mutex_);
    if (idle_.size() < static_cast<std::size_t>(keep_)) idle_.push_back(std::move(db));
  }

  const std::string path_;
  const int keep_;
  const std::string vfs_name_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Database>> idle_;
};

// Runs `read` on a pooled connection.
template <typename F>
auto WithReader(ReadPool& pool, F&& read) -> decltype(read(std::declval<Database&>())) {
  Result<ReadPool::Lease> lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  return read(**lease);
}

// One writing process per database. A second one (another server, or an import or the demo
// beside a running server) would append behind the first one's cached head and projections:
// its appends would fail, and the first one would serve state that misses them. The lock is on
// a file of its own beside the database, never on the database itself: closing any descriptor
// of the database would drop the POSIX locks SQLite holds on it. The kernel releases it when
// the process ends, however it ends. The lock file is opened for reading only (flock needs no
// more), so that one created by another user does not lock this one out.
class WriterLock {
 public:
  static Result<WriterLock> Acquire(const std::string& database_path) {
    // Beside the file itself, whatever symbolic links or ".." lead to it, as SQLite finds its
    // -wal. (Hard links defeat SQLite's own locking as well; do not make them.)
    std::error_code error;
    const std::filesystem::path real = std::filesystem::weakly_canonical(database_path, error);
    const std::string path = (error ? database_path : real.string()) + "-lock";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return Status::IOError("cannot open the lock file " + path + ": " + std::strerror(errno));
    }
    WriterLock lock(fd);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return Status::Busy(database_path +
                            " is open for writing by another process (a running custody "
                            "serve?): stop it first");
      }
      return Status::IOError("cannot lock " + path + ": " + std::strerror(errno));
    }
    return lock;
  }
  WriterLock(WriterLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  WriterLock& operator=(WriterLock&&) = delete;
  ~WriterLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit WriterLock(int fd) : fd_(fd) {}
  int fd_;
};

Status ReadOnlyError() { return Status::NotSupported("the event store is open read-only"); }

}  // namespace

class EventStore::Impl {
 public:
  Impl(std::string path, Options options)
      : path(std::move(path)),
        options(std::move(options)),
        pool(this->path, this->options.read_connections, this->options.vfs_name) {}
  ~Impl() {
    // The writer's connection closes last, so that its close checkpoints the WAL.
    if (writer != nullptr) writer->Stop();
    pool.Clear();
    writer.reset();
    writer_lock.reset();
  }

  const std::string path;
  const Options options;
  mutable ReadPool pool;
  Listeners listeners;
  std::unique_ptr<Writer> writer;         // null when read-only
  std::optional<WriterLock> writer_lock;  // held from before the writer opens until it closes
};

EventStore::EventStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EventStore::~EventStore() = default;

Result<std::unique_ptr<EventStore>> EventStore::Open(const std::string& path, Options options) {
  // Before the database is opened: opening it for writing may already write (the schema, the
  // query indexes).
  Result<WriterLock> lock = WriterLock::Acquire(path);
  if (!lock.ok()) return lock.status();
  Result<std::unique_ptr<Database>> db = OpenCustodyDatabase(
      path, OpenOptions{Database::Mode::kReadWrite, options.synchronous_full, options.vfs_name});
  if (!db.ok()) return db.status();
  // SQLite quietly opens a file it cannot write read-only; every append would then fail. Say
  // so now rather than serve errors with a retry hint.
  if ((*db)->ReadOnly()) {
    return Status::IOError(path +
                           " cannot be written (its permissions or owner, or a read-only file "
                           "system): the log's writer needs to write it");
  }
  auto impl = std::make_unique<Impl>(path, std::move(options));
  impl->writer_lock.emplace(std::move(lock).value());
  Result<std::unique_ptr<Writer>> writer =
      Writer::Start(std::move(db).value(), impl->options, &impl->listeners);
  if (!writer.ok()) return writer.status();
  impl->writer = std::move(writer).value();
  return std::unique_ptr<EventStore>(new EventStore(std::move(impl)));
}

Result<std::unique_ptr<EventStore>> EventStore::OpenReadOnly(const std::string& path,
                                                             Options options) {
  auto impl = std::make_unique<Impl>(path, std::move(options));
  // Opening one connection now reports a missing or foreign file here rather than later.
  Result<ReadPool::Lease> lease = impl->pool.Acquire();
  if (!lease.ok()) return lease.status();
  return std::unique_ptr<EventStore>(new EventStore(std::move(impl)));
}

Result<AppendResult> EventStore::Append(AppendRequest request) {
  if (impl_->writer == nullptr) return ReadOnlyError();
  if (Status status = PrepareAppend(request); !status.ok()) return status;
  return impl_->writer->Append(std::move(request));
}

Status EventStore::AppendAsync(AppendRequest request, AppendDone done) {
  if (impl_->writer == nullptr) return ReadOnlyError();
  if (Status status = PrepareAppend(request); !status.ok()) return status;
  return impl_->writer->AppendAsync(std::move(request), std::move(done));
}

void EventStore::Drain() {
  if (impl_->writer != nullptr) impl_->writer->Drain();
}

Status EventStore::Import(const std::vector<Event>& events) {
  if (impl_->writer == nullptr) return ReadOnlyError();
  return impl_->writer->Import(events);
}

Result<std::vector<Event>> EventStore::FindByCommandId(const std::string& tenant,
                                                       const std::string& command_id) const {
  return WithReader(impl_->pool,
                    [&](Database& db) { return FindCommandEvents(db, tenant, command_id); });
}

Result<std::vector<Event>> EventStore::ReadStream(const std::string& stream,
                                                  std::int64_t after_version) const {
  return WithReader(impl_->pool,
                    [&](Database& db) { return ReadStreamEvents(db, stream, after_version); });
}

Result<Page> EventStore::Query(const Filter& filter, std::size_t limit) const {
  return WithReader(impl_->pool, [&](Database& db) { return QueryEvents(db, filter, limit); });
}

Status EventStore::Scan(const Filter& filter,
                        const std::function<bool(const Event&)>& visit) const {
  Filter page_filter = filter;
  // Stop at today's head: a busy log must not keep a scan going forever.
  Result<std::int64_t> head = ReadHeadPosition();  // a failed read is no empty log
  if (!head.ok()) return head.status();
  if (!page_filter.until_position || *page_filter.until_position > *head) {
    page_filter.until_position = *head;
  }
  for (;;) {
    // The connection is released between pages, so `visit` may use the store.
    Result<Page> page = Query(page_filter, kScanBatch);
    if (!page.ok()) return page.status();
    for (const Event& event : page->events) {
      if (!visit(event)) return Status::Ok();
    }
    if (!page->next_after) return Status::Ok();
    page_filter.after_position = *page->next_after;
  }
}

Status EventStore::Replay(std::int64_t after, std::optional<std::int64_t> until,
                          const std::string& tenant,
                          const std::function<bool(const Event&)>& visit) const {
  return WithReader(impl_->pool,
                    [&](Database& db) { return ReplayEvents(db, after, until, tenant, visit); });
}

std::int64_t EventStore::HeadPosition() const {
  Result<std::int64_t> head = ReadHeadPosition();
  return head.ok() ? *head : 0;
}

Result<std::int64_t> EventStore::ReadHeadPosition() const {
  if (impl_->writer != nullptr) return impl_->writer->head_position();
  // Read-only: another process may be appending, so ask the file.
  return WithReader(impl_->pool, [](Database& db) { return LastPosition(db); });
}

Result<std::int64_t> EventStore::StreamVersion(const std::string& stream) const {
  return WithReader(impl_->pool, [&](Database& db) { return LastStreamVersion(db, stream); });
}

Result<std::int64_t> EventStore::PositionAt(TimeMs time) const {
  return WithReader(impl_->pool, [&](Database& db) { return PositionAtTime(db, time); });
}

Result<VerifyReport> EventStore::Verify(const VerifyOptions& options) const {
  return WithReader(impl_->pool, [&options](Database& db) { return VerifyChain(db, options); });
}

int EventStore::Subscribe(Listener listener) { return impl_->listeners.Add(std::move(listener)); }

void EventStore::Unsubscribe(int id) { impl_->listeners.Remove(id); }

Status EventStore::SaveSnapshot(const Snapshot& snapshot) {
  if (impl_->writer == nullptr) return ReadOnlyError();
  return impl_->writer->SaveSnapshot(snapshot);
}

Result<std::optional<Snapshot>> EventStore::LoadSnapshot(const std::string& name) const {
  return WithReader(impl_->pool, [&](Database& db) { return ReadSnapshot(db, name); });
}

Result<std::int64_t> EventStore::DatabaseSizeBytes() const {
  std::error_code error;
  const std::uintmax_t main = std::filesystem::file_size(impl_->path, error);
  if (error) return Status::IOError("size of " + impl_->path + ": " + error.message());
  const std::uintmax_t wal = std::filesystem::file_size(impl_->path + "-wal", error);
  return static_cast<std::int64_t>(main + (error ? 0 : wal));
}

}  // namespace custody::eventstore
