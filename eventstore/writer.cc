#include "eventstore/writer.h"

#include <chrono>
#include <exception>
#include <optional>

#include "eventstore/random.h"
#include "eventstore/schema.h"

namespace custody::eventstore {
namespace {

// Beyond this many cached streams the cache starts over; a miss costs one indexed read.
constexpr std::size_t kMaxCachedStreams = 100000;

std::string CommandKey(const std::string& tenant, const std::string& command_id) {
  std::string key = tenant;
  key.push_back('\0');
  key += command_id;
  return key;
}

Status ShuttingDown() { return Status::Busy("the event store is shutting down"); }

}  // namespace

struct Writer::Work {
  enum class Kind { kAppend, kImport, kSnapshot, kBarrier };
  Kind kind = Kind::kAppend;
  AppendRequest request;  // kAppend
  // An asynchronous append is completed by `on_done` and deleted by the writer; the other
  // works belong to a caller blocked in Wait.
  EventStore::AppendDone on_done;
  const std::vector<Event>* events = nullptr;
  const Snapshot* snapshot = nullptr;
  std::optional<Result<AppendResult>> result;  // kAppend
  Status status;                               // kImport, kSnapshot

  // The caller destroys its Work as soon as Wait returns, so Finish notifies under the lock:
  // the writer is done touching the Work before the caller can see `finished`. An
  // asynchronous append is handed its result and deleted.
  void Finish() {
    if (on_done) {
      const std::unique_ptr<Work> owned(this);
      try {
        on_done(std::move(*result));
      } catch (...) {  // the caller's failure is its own; the writer must go on
      }
      return;
    }
    std::lock_guard lock(mutex);
    finished = true;
    done.notify_one();
  }
  void Wait() {
    std::unique_lock lock(mutex);
    done.wait(lock, [this] { return finished; });
  }
  std::mutex mutex;
  std::condition_variable done;
  bool finished = false;
};

struct Writer::Batch {
  TimeMs now = 0;
  std::unordered_map<std::string, const Work*> commands;  // appended earlier in this batch
  std::vector<Event> committed;                           // for the listeners
};

// --- Listeners ---

int Listeners::Add(EventStore::Listener listener) {
  std::lock_guard lock(mutex_);
  const int id = next_id_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void Listeners::Remove(int id) {
  std::lock_guard lock(mutex_);
  listeners_.erase(id);
}

void Listeners::Notify(const std::vector<Event>& events) {
  std::lock_guard lock(mutex_);
  for (auto& [id, listener] : listeners_) {
    try {
      listener(events);
    } catch (...) {  // a listener's failure is its own; the events are committed
    }
  }
}

// --- Writer ---

Writer::Writer(std::unique_ptr<Database> db, const Options& options, Listeners* listeners)
    : db_(std::move(db)), options_(options), listeners_(listeners) {
  if (options_.max_batch_events == 0) options_.max_batch_events = 1;
}

Result<std::unique_ptr<Writer>> Writer::Start(std::unique_ptr<Database> db, const Options& options,
                                              Listeners* listeners) {
  std::unique_ptr<Writer> writer(new Writer(std::move(db), options, listeners));
  if (Status status = writer->Reload(); !status.ok()) return status;
  try {
    writer->thread_ = std::thread([w = writer.get()] { w->Run(); });
  } catch (const std::exception& e) {
    return Status::IOError(std::string("cannot start the writer thread: ") + e.what());
  }
  return writer;
}

Writer::~Writer() { Stop(); }

void Writer::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

TimeMs Writer::Now() const {
  if (options_.clock) return options_.clock();
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

bool Writer::Enqueue(Work* work) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    queue_.push_back(work);
  }
  wake_.notify_one();
  return true;
}

Status Writer::Submit(Work* work) {
  if (!Enqueue(work)) return ShuttingDown();
  work->Wait();
  return Status::Ok();
}

Result<AppendResult> Writer::Append(AppendRequest request) {
  Work work;
  work.request = std::move(request);
  if (Status status = Submit(&work); !status.ok()) return status;
  return std::move(*work.result);
}

Status Writer::AppendAsync(AppendRequest request, EventStore::AppendDone done) {
  auto work = std::make_unique<Work>();
  work->request = std::move(request);
  work->on_done = std::move(done);
  if (!Enqueue(work.get())) return ShuttingDown();
  work.release();  // the writer deletes it once done
  return Status::Ok();
}

void Writer::Drain() {
  Work work;
  work.kind = Work::Kind::kBarrier;
  (void)Submit(&work);  // refused once stopping: Stop drains everything queued itself
}

Status Writer::Import(const std::vector<Event>& events) {
  Work work;
  work.kind = Work::Kind::kImport;
  work.events = &events;
  if (Status status = Submit(&work); !status.ok()) return status;
  return work.status;
}

Status Writer::SaveSnapshot(const Snapshot& snapshot) {
  Work work;
  work.kind = Work::Kind::kSnapshot;
  work.snapshot = &snapshot;
  if (Status status = Submit(&work); !status.ok()) return status;
  return work.status;
}

void Writer::Run() {
  std::vector<Work*> works;
  for (;;) {
    works.clear();
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {  // stopping, and everything queued is done
        lock.unlock();
        RestoreQueryIndexes();
        return;
      }
      if (queue_.front()->kind == Work::Kind::kAppend && released_ > 1 &&
          queue_.size() < released_ && options_.group_commit_wait.count() > 0) {
        // The callers the last commit released are deciding their next command: wait a moment
        // for them rather than commit a small batch now and leave them the next fsync alone.
        wake_.wait_for(lock, options_.group_commit_wait,
                       [this] { return stopping_ || queue_.size() >= released_; });
      }
      if (queue_.front()->kind != Work::Kind::kAppend) {
        works.push_back(queue_.front());
        queue_.pop_front();
      } else {
        std::size_t events = 0;
        while (!queue_.empty() && queue_.front()->kind == Work::Kind::kAppend) {
          const std::size_t size = queue_.front()->request.events.size();
          if (!works.empty() && events + size > options_.max_batch_events) break;
          events += size;
          works.push_back(queue_.front());
          queue_.pop_front();
        }
      }
    }
    if (works.front()->kind != Work::Kind::kImport) RestoreQueryIndexes();
    switch (works.front()->kind) {
      case Work::Kind::kAppend:
        ProcessAppends(works);
        released_ = works.size();
        break;
      case Work::Kind::kImport:
        ProcessImport(*works.front());
        break;
      case Work::Kind::kSnapshot:
        ProcessSnapshot(*works.front());
        break;
      case Work::Kind::kBarrier:
        break;
    }
    // Acknowledge last: a caller may destroy its Work as soon as it is released.
    for (Work* work : works) work->Finish();
  }
}

Status Writer::Reload() {
  streams_.clear();
  state_valid_ = false;
  Result<Head> head = ReadHead(*db_);
  if (!head.ok()) return head.status();
  head_ = *head;
  published_head_.store(head_.position, std::memory_order_release);
  state_valid_ = true;
  return Status::Ok();
}

Result<StreamRow*> Writer::LookupStream(const std::string& name) {
  if (auto it = streams_.find(name); it != streams_.end()) return &it->second;
  Result<std::optional<StreamRow>> row = FindStream(*db_, name);
  if (!row.ok()) return row.status();
  if (!row->has_value()) return static_cast<StreamRow*>(nullptr);
  return &streams_.emplace(name, std::move(**row)).first->second;
}

void Writer::ProcessAppends(const std::vector<Work*>& works) {
  Status failure;
  if (!state_valid_) failure = Reload();
  if (streams_.size() > kMaxCachedStreams) streams_.clear();

  Transaction transaction(db_.get());
  if (failure.ok()) failure = transaction.Begin();
  Batch batch;
  batch.now = std::max(Now(), head_.recorded_at);  // recorded_at never goes back
  for (Work* work : works) {
    if (!failure.ok()) break;
    failure = Stage(*work, batch);
  }
  if (failure.ok()) failure = transaction.Commit();
  if (!failure.ok()) {
    // Nothing of the batch is on disk: make memory agree, and acknowledge nobody with success.
    // If the reload fails too, state_valid_ stays false and the next batch tries again.
    transaction.Rollback();
    Reload();
    for (Work* work : works) work->result = failure;
    return;
  }
  published_head_.store(head_.position, std::memory_order_release);
  if (!batch.committed.empty()) listeners_->Notify(batch.committed);
}

Status Writer::Stage(Work& work, Batch& batch) {
  AppendRequest& request = work.request;
  std::string key;
  if (!request.command_id.empty()) {
    key = CommandKey(request.tenant, request.command_id);
    if (auto it = batch.commands.find(key); it != batch.commands.end()) {
      AppendResult first = it->second->result->value();
      first.outcome = AppendResult::Outcome::kDuplicate;
      work.result = std::move(first);
      return Status::Ok();
    }
    Result<std::optional<CommandRow>> command =
        FindCommand(*db_, request.tenant, request.command_id);
    if (!command.ok()) return command.status();
    if (command->has_value()) {
      AppendResult duplicate;
      duplicate.outcome = AppendResult::Outcome::kDuplicate;
      Status read =
          ReadCommandEvents(*db_, request.tenant, request.command_id, **command, &duplicate.events);
      if (read.code() == Status::Code::kCorruption) {  // this command's row: the batch goes on
        work.result = read;
        return Status::Ok();
      }
      if (!read.ok()) return read;
      if (!duplicate.events.empty()) duplicate.stream_version = duplicate.events.back().version;
      work.result = std::move(duplicate);
      return Status::Ok();
    }
  }

  Result<StreamRow*> found = LookupStream(request.stream);
  if (!found.ok()) return found.status();
  StreamRow* stream = *found;
  if (stream != nullptr && stream->tenant != request.tenant) {
    work.result =
        Status::InvalidArgument("stream '" + request.stream + "' belongs to another tenant");
    return Status::Ok();
  }
  const std::int64_t current = stream == nullptr ? 0 : stream->version;
  if (request.expected_version && *request.expected_version != current) {
    AppendResult conflict;
    conflict.outcome = AppendResult::Outcome::kVersionConflict;
    conflict.stream_version = current;
    work.result = std::move(conflict);
    return Status::Ok();
  }
  if (stream == nullptr) {
    Result<std::int64_t> id = InsertStream(*db_, request.stream, request.tenant);
    if (!id.ok()) return id.status();
    stream = &streams_.emplace(request.stream, StreamRow{*id, request.tenant, 0}).first->second;
  }

  const std::int64_t first_position = head_.position + 1;
  for (Event& event : request.events) {
    event.position = head_.position + 1;
    event.version = stream->version + 1;
    event.recorded_at = batch.now;
    event.format = kEventFormat;
    if (event.id.empty()) {
      Result<std::string> id = UuidV7(batch.now);
      if (!id.ok()) return id.status();
      event.id = std::move(id).value();
    }
    event.prev_hash = ToHex(head_.hash);
    const EventView view = ViewOf(event);
    scratch_.clear();
    AppendCanonicalBytes(scratch_, view);
    Digest hash;
    if (!Sha256(scratch_, &hash)) return Status::IOError("SHA-256 failed");
    event.hash = ToHex(hash);
    if (Status status = InsertEvent(*db_, stream->id, view, head_.hash, hash); !status.ok()) {
      return status;
    }
    // Advanced only once the row is in: a failure rolls the batch back and reloads anyway.
    head_.position = event.position;
    head_.hash = hash;
    head_.recorded_at = batch.now;
    stream->version = event.version;
  }
  if (!key.empty()) {
    const CommandRow row{first_position, static_cast<std::int64_t>(request.events.size())};
    if (Status status = InsertCommand(*db_, request.tenant, request.command_id, row);
        !status.ok()) {
      return status;
    }
    batch.commands.emplace(std::move(key), &work);
  }
  batch.committed.insert(batch.committed.end(), request.events.begin(), request.events.end());
  AppendResult appended;
  appended.stream_version = stream->version;
  appended.events = std::move(request.events);
  work.result = std::move(appended);
  return Status::Ok();
}

void Writer::ProcessImport(Work& work) {
  if (!state_valid_) work.status = Reload();
  // Into an empty log, the query indexes are built once at the end (RestoreQueryIndexes).
  const bool drop_query_indexes = head_.position == 0 && !work.events->empty();
  if (work.status.ok()) work.status = ImportAll(*work.events, drop_query_indexes);
  if (!work.status.ok()) {
    Reload();  // ImportAll's transaction rolled back; make memory agree with disk
    return;
  }
  if (drop_query_indexes) query_indexes_dropped_ = true;
  published_head_.store(head_.position, std::memory_order_release);
  if (!work.events->empty()) listeners_->Notify(*work.events);
}

void Writer::RestoreQueryIndexes() {
  if (!query_indexes_dropped_) return;
  Transaction transaction(db_.get());
  Status status = transaction.Begin();
  if (status.ok()) status = CreateQueryIndexes(*db_);
  if (status.ok()) status = transaction.Commit();
  if (status.ok()) query_indexes_dropped_ = false;
}

void Writer::ProcessSnapshot(Work& work) {
  const Snapshot& snapshot = *work.snapshot;
  Statement s = db_->GetCachedStatement(
      "INSERT OR REPLACE INTO snapshots (name, code_version, position, blob) "
      "VALUES (?, ?, ?, ?)");
  s.BindText(0, snapshot.name);
  s.BindInt64(1, snapshot.code_version);
  s.BindInt64(2, snapshot.position);
  s.BindBlob(3, snapshot.blob.data(), snapshot.blob.size());
  work.status = s.Run();
}

}  // namespace custody::eventstore
