#pragma once

// Everything a running custody needs, opened on one database file: the event store, the
// projections that follow it, the command service and the tokens.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "domain/status.h"
#include "eventstore/event_store.h"
#include "eventstore/token_store.h"
#include "projections/command_service.h"
#include "projections/projections.h"

namespace custody::server {

inline constexpr std::int64_t kChainUnchecked = -1;
inline constexpr std::int64_t kChainCheckFailed = -2;
inline constexpr std::int64_t kCommandsAltered = -3;  // the events check out, their index not

struct App {
  // Opens (creating if needed) the database at `path`. Errors name the file.
  static Result<std::unique_ptr<App>> Open(const std::string& path,
                                           eventstore::Options options = {});
  // Writes a final projection checkpoint; members are destroyed in reverse order.
  ~App();

  std::string path;
  std::unique_ptr<eventstore::EventStore> store;
  std::unique_ptr<projections::Projections> projections;
  std::unique_ptr<projections::CommandService> commands;
  std::unique_ptr<eventstore::TokenStore> tokens;
  // What the server's check of the hash chain after its start found: kChainUnchecked until it
  // has run (or where nothing checks), kChainCheckFailed when it could not read the log,
  // kCommandsAltered when only the commands table is, 0 when the chain checked out, else the
  // first bad position.
  std::atomic<std::int64_t> chain_first_bad_position{kChainUnchecked};
};

// Milliseconds since the epoch, from the system clock.
TimeMs SystemNow();

}  // namespace custody::server
