#pragma once

// Runs commands: reads the current state from the projections, lets the domain decide, and
// appends the facts (or the refusal) through the event store's single write path. Optimistic
// concurrency: the append expects the stream version the decision was made on, and a command
// that lost a race is decided again on the newer state.

#include <cstdint>
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

  // Executes a member's command in `tenant`. Errors are storage failures only.
  Result<CommandReply> Execute(const std::string& tenant, const DecodedCommand& command,
                               const Source& source);

  // Creates a tenant with its first admin; `actor` names who asked (the operator's token).
  Result<CommandReply> CreateTenant(const DecodedCreateTenant& command, const std::string& actor,
                                    const Source& source);

 private:
  struct Attempt;

  // Commands on one stream take turns in this process: deciding while another command on the
  // same stream is being written only loses the race, and under load a slow caller could lose
  // it every time. Different streams never wait for each other.
  class StreamTurns {
   public:
    class Turn;
    Turn Take(const std::string& stream);

   private:
    struct Entry {
      std::mutex mutex;
      int holders = 0;  // taking or holding the turn; the entry goes when none is left
    };
    std::mutex mutex_;
    std::unordered_map<std::string, std::unique_ptr<Entry>> entries_;
  };

  Result<CommandReply> Run(const std::string& tenant, const std::string& stream,
                           const CommandOptions& options, const Source& source,
                           const std::function<Attempt(const TenantView*)>& decide);

  eventstore::EventStore& store_;
  const Projections& projections_;
  Clock clock_;
  StreamTurns turns_;
};

}  // namespace custody::projections
