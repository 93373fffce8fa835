#pragma once

// The one write path (internal to eventstore/). A Writer owns the write connection and one
// thread; Append, Import and SaveSnapshot queue work for it and block until it is done, and
// AppendAsync queues an append and returns at once.
// Consecutive appends are committed together (group commit); an import or a snapshot is done
// alone, in queue order.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "eventstore/encoding.h"
#include "eventstore/event_store.h"
#include "eventstore/rows.h"
#include "eventstore/sqlite.h"

namespace custody::eventstore {

// The commit listeners. Notify holds the lock while listeners run, so that once Remove
// returns its listener is never called again; a listener must not call Add or Remove.
class Listeners {
 public:
  int Add(EventStore::Listener listener);
  void Remove(int id);
  // Exceptions thrown by a listener are caught and dropped: they must not stop the writer.
  void Notify(const std::vector<Event>& events);

 private:
  std::mutex mutex_;
  std::map<int, EventStore::Listener> listeners_;
  int next_id_ = 1;
};

// Checks and completes a request in the caller's thread, before it is queued: stream, tenant
// and command_id are copied into (or must match) every event, and `data` is made canonical.
// kInvalidArgument names what is wrong.
Status PrepareAppend(AppendRequest& request);

class Writer {
 public:
  // Reads the head of the log and starts the thread. `listeners` must outlive the Writer.
  static Result<std::unique_ptr<Writer>> Start(std::unique_ptr<Database> db, const Options& options,
                                               Listeners* listeners);
  // Stop()s, then closes the connection.
  ~Writer();

  // `request` must have passed PrepareAppend. kBusy once Stop() has begun.
  Result<AppendResult> Append(AppendRequest request);
  // The same without waiting (see EventStore::AppendAsync): kBusy, and `done` never called,
  // once Stop() has begun.
  Status AppendAsync(AppendRequest request, EventStore::AppendDone done);
  Status Import(const std::vector<Event>& events);
  // Returns once everything queued before the call is done, callbacks included.
  void Drain();
  Status SaveSnapshot(const Snapshot& snapshot);
  // Refuses new work, finishes what is queued and joins the thread. Idempotent.
  void Stop();

  // The last committed position.
  std::int64_t head_position() const { return published_head_.load(std::memory_order_acquire); }

 private:
  struct Work;
  struct Batch;

  Writer(std::unique_ptr<Database> db, const Options& options, Listeners* listeners);

  // Queues `work`; false (and nothing queued) once Stop() has begun.
  bool Enqueue(Work* work);
  Status Submit(Work* work);
  void Run();
  void ProcessAppends(const std::vector<Work*>& works);
  // Writes one append into the open transaction, or sets its outcome. A non-ok return is a
  // storage failure that fails the whole batch.
  Status Stage(Work& work, Batch& batch);
  void ProcessImport(Work& work);
  Status ImportAll(const std::vector<Event>& events, bool drop_query_indexes);
  // Builds the query indexes an import into the empty log dropped, if it did. Before any other
  // work and at Stop; a failure leaves them for the next try (reads are slower meanwhile).
  void RestoreQueryIndexes();
  void ProcessSnapshot(Work& work);
  // Forgets the caches and reads the head again, after a rollback.
  Status Reload();
  // The cached stream, read from disk on a miss; nullptr when it does not exist.
  Result<StreamRow*> LookupStream(const std::string& name);
  TimeMs Now() const;

  std::unique_ptr<Database> db_;
  Options options_;
  Listeners* listeners_;

  // Touched by the writer thread only.
  Head head_;
  bool state_valid_ = false;
  std::unordered_map<std::string, StreamRow> streams_;
  std::string scratch_;       // canonical bytes of the event being hashed
  std::size_t released_ = 0;  // callers acknowledged by the last batch of appends
  bool query_indexes_dropped_ = false;

  std::atomic<std::int64_t> published_head_{0};

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Work*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace custody::eventstore
