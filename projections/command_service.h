#pragma once

// Runs commands: reads the current state from the projections, lets the domain decide, and
// appends the facts (or the refusal) through the event store's single write path. Optimistic
// concurrency: the append expects the stream version the decision was made on, and a command
// that lost a race is decided again on the newer state.
//
// Commands run asynchronously: no thread waits for the disk. The caller's thread decides and
// queues the append; the writer thread hands over the reply once it is durable. A command whose
// stream is busy, or which must be decided again, continues on the thread that completed the
// command before it (the writer's): deciding reads memory only, and queueing never blocks.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/command_codec.h"
#include "domain/decision.h"
#include "domain/event.h"
#include "domain/status.h"
#include "eventstore/event_store.h"
#include "projections/projections.h"

namespace custody::projections {

struct CommandReply {
  enum class Kind {
    kRecorded,         // the facts were appended (201; 200 when `duplicate`)
    kRejected,         // a rule refused it; the refusal was recorded (409)
    kVersionConflict,  // expected_version did not match; nothing recorded (412)
    kTenantNotFound,   // no such tenant; nothing recorded (404)
  };
  Kind kind = Kind::kRecorded;
  bool duplicate = false;     // the command_id was seen before: this is the first result
  std::vector<Event> events;  // as stored
  std::int64_t position = 0;  // of the last event written (or returned)
  std::optional<Refusal> refusal;
  std::int64_t expected_version = 0;  // for kVersionConflict
  std::int64_t actual_version = 0;
};

class CommandService {
 public:
  using Clock = std::function<TimeMs()>;

  // `clock` stamps occurred_at when a command does not give one.
  CommandService(eventstore::EventStore& store, const Projections& projections, Clock clock);
  // Waits for the commands still running: their continuations use this service.
  ~CommandService();
  // Returns once every command started before the call has been handed its reply.
  void WaitUntilIdle();
  CommandService(const CommandService&) = delete;
  CommandService& operator=(const CommandService&) = delete;

  // Called exactly once with the outcome; errors are storage failures only. It may run on the
  // calling thread before ExecuteAsync returns, or on the event store's writer thread: it must be
  // short and must not block (see EventStore::AppendAsync).
  using Done = std::function<void(Result<CommandReply>)>;

  // Executes a member's command in `tenant`.
  void ExecuteAsync(const std::string& tenant, DecodedCommand command, Source source, Done done);
  // Creates a tenant with its first admin; `actor` names who asked (the operator's token).
  void CreateTenantAsync(DecodedCreateTenant command, std::string actor, Source source, Done done);

  // The same, blocking until the outcome is known.
  Result<CommandReply> Execute(const std::string& tenant, const DecodedCommand& command,
                               const Source& source);
  Result<CommandReply> CreateTenant(const DecodedCreateTenant& command, const std::string& actor,
                                    const Source& source);

 private:
  struct Attempt;
  struct Pending;

  // Commands on one stream take turns in this process: deciding while another command on the
  // same stream is being written only loses the race, and under load a slow caller could lose
  // it every time. A turn lasts from the decision to the durable append; the commands waiting
  // meanwhile are queued in arrival order. Different streams never wait for each other.
  class StreamTurns {
   public:
    // Returns true when its turn is over, false when Leave will be called later.
    using Turn = std::function<bool()>;
    // Runs `turn` now when `stream` is free, or once the turns queued before it are over.
    void Enter(const std::string& stream, Turn turn);
    // Ends the current turn on `stream` and runs the next ones queued, if any.
    void Leave(const std::string& stream);

   private:
    Turn Next(const std::string& stream);
    void RunFrom(const std::string& stream, Turn turn);

    std::mutex mutex_;
    // A stream is busy while it has an entry; the entry holds the turns waiting.
    std::unordered_map<std::string, std::deque<Turn>> busy_;
  };

  // Counts the command as running, answers a repeated command_id from the log, and otherwise
  // decides it in its stream's turn.
  void Start(Pending command);
  // Decides and queues the append. True when the command ended without one (its turn is over).
  bool Decide(const std::shared_ptr<Pending>& pending);
  // When the command's id was recorded before, replies with that first result and returns true.
  bool RepliedAsRepeat(const std::shared_ptr<Pending>& pending);
  // True when the command has its reply; false when it was decided again and queued.
  bool OnAppended(const std::shared_ptr<Pending>& pending,
                  Result<eventstore::AppendResult> appended);
  // Hands the caller its reply; the command is over for the count of those running.
  void Reply(const std::shared_ptr<Pending>& pending, Result<CommandReply> reply);

  eventstore::EventStore& store_;
  const Projections& projections_;
  Clock clock_;
  StreamTurns turns_;

  std::mutex running_mutex_;
  std::condition_variable none_running_;
  std::size_t running_ = 0;  // commands started and not yet replied to
};

}  // namespace custody::projections
