#pragma once

// The read side (internal to eventstore/): each function runs on one connection the caller
// holds, read-only or not. EventStore lends them connections from its read pool.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/event_store.h"
#include "eventstore/sqlite.h"

namespace custody::eventstore {

Result<Page> QueryEvents(Database& db, const Filter& filter, std::size_t limit);
Result<std::vector<Event>> ReadStreamEvents(Database& db, const std::string& stream,
                                            std::int64_t after_version);
Result<std::vector<Event>> FindCommandEvents(Database& db, const std::string& tenant,
                                             const std::string& command_id);
// EventStore::Replay on one connection.
Status ReplayEvents(Database& db, std::int64_t after, std::optional<std::int64_t> until,
                    const std::string& tenant, const std::function<bool(const Event&)>& visit);
Result<std::int64_t> LastStreamVersion(Database& db, const std::string& stream);
Result<std::int64_t> LastPosition(Database& db);
Result<std::int64_t> PositionAtTime(Database& db, TimeMs time);
Result<std::optional<Snapshot>> ReadSnapshot(Database& db, const std::string& name);

// verify.cc. Splits the log into `threads` ranges checked in parallel; 0 chooses from the
// log's size and the machine.
Result<VerifyReport> VerifyChain(Database& db, const VerifyOptions& options = {});

}  // namespace custody::eventstore
