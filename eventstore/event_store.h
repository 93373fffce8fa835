#pragma once

// The append-only, hash-chained event log on one SQLite file.
//
// One write path: a single writer thread owns the write connection. Any number of threads call
// Append() or AppendAsync(); the writer takes everything queued, commits it in one transaction
// (group commit), runs the commit listeners, then acknowledges each caller (or calls its `done`).
// Reads use a pool of read-only connections and never wait for the writer. The store knows nothing
// of Marketo: it stores envelopes (domain/event.h) whose `data` is opaque canonical JSON.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/event.h"
#include "domain/status.h"

namespace custody::eventstore {

struct Options {
  // PRAGMA synchronous=FULL: an append is acknowledged only once it survives power loss.
  bool synchronous_full = true;
  // Most events one group commit writes; the rest of the queue waits for the next one.
  std::size_t max_batch_events = 4096;
  // Group commit: when the previous commit released several callers and fewer appends are
  // queued, the writer waits up to this long for those callers' next appends, so that they
  // share one durable commit rather than alternate between two half-size ones. Never waits
  // with a single caller; zero turns it off.
  std::chrono::microseconds group_commit_wait{500};
  // Read connections kept open for queries.
  int read_connections = 4;
  // The clock that stamps recorded_at (ms since epoch); the system clock when empty.
  std::function<TimeMs()> clock;
  // The SQLite VFS every connection of the store opens with; empty: SQLite's default. Tests
  // register one that fails on demand, to exercise full and failing disks.
  std::string vfs_name = {};
};

// One atomic append to one stream: all of `events` are written, contiguously, or none is.
struct AppendRequest {
  std::string stream;
  std::string tenant;
  // The stream's version before this append (0: the stream must be new). nullopt: no check.
  std::optional<std::int64_t> expected_version;
  // Idempotency key, unique per tenant. When an append with the same tenant and command_id
  // was committed before, nothing is written and the first append's events come back.
  std::string command_id;
  // The store sets position, version, recorded_at, prev_hash, hash, format, and id when empty.
  std::vector<Event> events;
};

struct AppendResult {
  enum class Outcome { kAppended, kDuplicate, kVersionConflict };
  Outcome outcome = Outcome::kAppended;
  std::vector<Event> events;        // as stored: this append's, or the first one's (kDuplicate)
  std::int64_t stream_version = 0;  // after the append, or the actual one (kVersionConflict)
};

// Every set member narrows the result; empty strings and nullopt mean "any".
struct Filter {
  std::string tenant;
  std::string stream;
  std::string type;
  std::string actor;
  std::string subject;          // also a member an integration_down cut off (data.cut_off)
  std::optional<TimeMs> since;  // occurred_at >= since
  std::optional<TimeMs> until;  // occurred_at < until
  std::int64_t after_position = 0;
  std::optional<std::int64_t> until_position;  // position <= until_position
};

struct Page {
  std::vector<Event> events;               // ascending position
  std::optional<std::int64_t> next_after;  // cursor for the next page; nullopt on the last
};

struct VerifyOptions {
  int threads = 0;  // ranges checked at once; 0 picks by the log's size and the cores
  // When > 0: this many positions at a time, one range after the other, each in a read
  // transaction of its own, so that a long check never holds one snapshot of the log (which
  // keeps SQLite from restarting the WAL while a writer appends). `threads` is then ignored.
  std::int64_t chunk = 0;
  // Checked between chunks: once true, the check ends with kBusy.
  const std::atomic<bool>* cancel = nullptr;
};

struct VerifyReport {
  bool ok = true;
  std::int64_t events = 0;  // how many events were checked
  std::int64_t head_position = 0;
  std::string head_hash;  // 64 zeros on an empty log
  std::optional<std::int64_t> first_bad_position;
  // The events check out, but the commands table (the index of command ids, outside the chain)
  // does not name exactly them: no position is bad, `problem` says what is.
  bool commands_altered = false;
  std::string problem;  // what is wrong, for people
};

// A persisted projection: opaque bytes valid as of `position` for code of `code_version`.
struct Snapshot {
  std::string name;
  int code_version = 0;
  std::int64_t position = 0;
  std::string blob;
};

class EventStore {
 public:
  using Listener = std::function<void(const std::vector<Event>&)>;
  using AppendDone = std::function<void(Result<AppendResult>)>;

  // Opens or creates the database and upgrades its schema. A file that is not a custody
  // database, or one written by a newer version, is an error and is left untouched.
  static Result<std::unique_ptr<EventStore>> Open(const std::string& path, Options options = {});
  // Opens an existing database without ever writing to it (no schema creation, no writer):
  // Append, Import and SaveSnapshot return kNotSupported. For replay, verify and export.
  // kNotFound when the file is missing or holds no custody schema.
  static Result<std::unique_ptr<EventStore>> OpenReadOnly(const std::string& path,
                                                          Options options = {});

  // Finishes queued appends, stops the writer and closes every connection. An append that
  // races with destruction gets kBusy.
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Blocks until the append is durable (or refused). A version conflict is an outcome, not an
  // error; errors are storage failures (kIOError, kFull, kBusy on shutdown...), after which
  // nothing of the request is visible. kInvalidArgument for a malformed request (no events,
  // no stream, an event whose stream, tenant or command_id differs from the request's, data
  // that is not a JSON object or holds a floating-point number, text that is not UTF-8);
  // the events' data is stored in canonical form. Thread-safe.
  Result<AppendResult> Append(AppendRequest request);

  // Append without blocking: queues the request and returns. When it was queued (ok), `done` is
  // later called exactly once with what Append would return, on the writer thread, once the
  // append is durable and the listeners have run. When it was refused before being queued (a
  // malformed request, a read-only store, shutting down), that is returned and `done` is never
  // called. `done` runs on the single write path, so it must be short (hand the result to
  // another thread) and must not call the blocking Append, Import, SaveSnapshot or Drain (they
  // wait for the thread `done` runs on); it may call AppendAsync.
  Status AppendAsync(AppendRequest request, AppendDone done);
  // Returns once every append queued before the call is done and its `done` has returned.
  void Drain();

  // Loads events that already carry position, version, prev_hash and hash (an export), in
  // order, after the current head. Recomputes and checks every hash, position and version and
  // writes nothing unless all of `events` pass: kCorruption naming the first bad position and
  // what is wrong. The bulk path: one transaction per call; listeners see the events. A call
  // holds whole commands: the events of one (tenant, command_id) are never split between two
  // calls, or the second would find the command id taken.
  Status Import(const std::vector<Event>& events);

  // The events of the first committed append with this tenant and command id (empty: none).
  Result<std::vector<Event>> FindByCommandId(const std::string& tenant,
                                             const std::string& command_id) const;
  // A stream's events with version > after_version, ascending.
  Result<std::vector<Event>> ReadStream(const std::string& stream,
                                        std::int64_t after_version = 0) const;
  // At most `limit` events matching `filter`, ascending position.
  // next_after is set when more events match. kInvalidArgument when limit is 0.
  Result<Page> Query(const Filter& filter, std::size_t limit) const;
  // Calls `visit` on every matching event in position order, reading in batches so memory
  // stays bounded whatever the size of the log. `visit` returns false to stop early.
  // Stops at the head as of the call; `visit` may call the store's read methods.
  Status Scan(const Filter& filter, const std::function<bool(const Event&)>& visit) const;
  // The replay path: calls `visit` on every event with after < position <= until (the head when
  // nullopt), of one tenant when `tenant` is not empty, in position order, in one read
  // transaction. Only the fields state is rebuilt from are set: position, stream, version, type,
  // tenant, occurred_at, data, format (the others are empty). The Event passed is reused between
  // calls. `visit` returns false to stop early; it may call the store's read methods.
  Status Replay(std::int64_t after, std::optional<std::int64_t> until, const std::string& tenant,
                const std::function<bool(const Event&)>& visit) const;

  // The last committed position (0: empty). Read-only stores ask the file, and answer 0 if it
  // cannot be read.
  std::int64_t HeadPosition() const;
  // The same, or why the file could not be read: for answers a failed read must not change.
  Result<std::int64_t> ReadHeadPosition() const;
  // 0 for a stream that does not exist.
  Result<std::int64_t> StreamVersion(const std::string& stream) const;
  // The last position whose recorded_at <= time (0 when none).
  Result<std::int64_t> PositionAt(TimeMs time) const;

  // Walks the whole chain and reports the first position whose hash, prev_hash, position or
  // content does not check out.
  Result<VerifyReport> Verify(const VerifyOptions& options = {}) const;

  // `listener` runs on the writer thread after each commit, before the appenders are
  // acknowledged, with the committed events in position order. It must be quick and must
  // not call Append, Import, SaveSnapshot, Subscribe or Unsubscribe; exceptions it throws are
  // dropped. Returns an id for Unsubscribe, after which the listener is never called again.
  int Subscribe(Listener listener);
  void Unsubscribe(int id);

  // Replaces the snapshot of the same name (snapshots are not history). Goes through the
  // writer, in queue order with appends.
  Status SaveSnapshot(const Snapshot& snapshot);
  // nullopt when there is none of this name.
  Result<std::optional<Snapshot>> LoadSnapshot(const std::string& name) const;

  // Size of the database file and its WAL, in bytes.
  Result<std::int64_t> DatabaseSizeBytes() const;

  class Impl;

 private:
  explicit EventStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custody::eventstore
