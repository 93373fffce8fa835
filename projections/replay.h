#pragma once

// Replaying the log into a State on several threads: one reads events from SQLite and deals
// them by tenant to appliers (the caller's thread and, on more cores, others) that decode and
// apply them, so that a large replay (a rebuild, a start without a snapshot) overlaps SQLite's
// row decoding with the projections' work. Small replays stay on one thread.

#include <cstdint>
#include <optional>
#include <string>

#include "domain/status.h"
#include "eventstore/event_store.h"
#include "projections/projections.h"

namespace custody::projections {

struct ReplayThreads {
  // Fewer events than this are replayed on the caller's thread alone: threads cost more.
  std::int64_t min_events = 20000;
  // Threads applying events, each to its share of the tenants; 0: one per core but the
  // reader's, at most 4, and one alone for a single tenant's replay (its events all go to one).
  std::size_t appliers = 0;
};

// Applies every event with after < position <= until (the head when nullopt), of `tenant`
// only when it is not empty, to `state`, in position order within each tenant. Returns how
// many were applied; kCorruption naming the position of an event whose data cannot be
// decoded (the state is then only partly replayed).
Result<std::int64_t> ReplayInto(const eventstore::EventStore& store, std::int64_t after,
                                std::optional<std::int64_t> until, const std::string& tenant,
                                State& state, const ReplayThreads& threads = {});

}  // namespace custody::projections
