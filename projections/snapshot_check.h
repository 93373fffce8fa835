#pragma once

// The projection snapshot is a cache kept in the same file as the log, outside the hash chain:
// whoever can edit the file can edit it without touching an event. It is therefore checked
// against the log (a rebuild up to the snapshot's position must give the same bytes) by
// `custody verify`, by GET /v1/integrity, and in the background each time the server starts.

#include <cstdint>
#include <optional>
#include <string>

#include "domain/status.h"
#include "eventstore/event_store.h"

namespace custody::projections {

struct SnapshotCheck {
  std::int64_t position = 0;  // of the snapshot checked
  bool matches_log = true;

  // "the projection snapshot at position N does not match the log"
  std::string Mismatch() const;
};

// nullopt when there is no snapshot this code would load (none, or of another code version).
Result<std::optional<SnapshotCheck>> CheckSnapshot(const eventstore::EventStore& store);

}  // namespace custody::projections
