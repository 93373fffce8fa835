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
  std::int64_t head = 0;      // of the log it was checked against
  bool matches_log = true;

  // A snapshot is only ever taken of committed events: one past the head means that events
  // were removed from the end of the log, which the chain alone cannot show.
  bool BeyondHead() const { return position > head; }
  // The first removed position when BeyondHead(), for reports that name a first bad position.
  std::optional<std::int64_t> FirstRemovedPosition() const {
    return BeyondHead() ? std::optional<std::int64_t>(head + 1) : std::nullopt;
  }
  // "the projection snapshot at position N does not match the log", or the removal above.
  std::string Mismatch() const;
};

// What a snapshot at `snapshot_position` says of a log whose head is `head` when it is past it.
std::string RemovedEventsProblem(std::int64_t snapshot_position, std::int64_t head);

// The verdict on a whole file: the chain first, then what lies outside it (the commands table,
// the snapshot). Events removed from the end name the first of them, whatever else is wrong.
struct Integrity {
  bool ok = true;
  std::optional<std::int64_t> first_bad_position;  // none when only what is outside is wrong
  std::string problem;                             // for people; empty when ok
};
Integrity Judge(const eventstore::VerifyReport& chain,
                const std::optional<SnapshotCheck>& snapshot);

// nullopt when there is no snapshot this code would load (none, or of another code version)
// and none past the head (which any code version's snapshot shows).
Result<std::optional<SnapshotCheck>> CheckSnapshot(const eventstore::EventStore& store);

}  // namespace custody::projections
