#include "projections/snapshot_check.h"

#include "projections/projections.h"

namespace custody::projections {

std::string SnapshotCheck::Mismatch() const {
  return "the projection snapshot at position " + std::to_string(position) +
         " does not match the log";
}

Result<std::optional<SnapshotCheck>> CheckSnapshot(const eventstore::EventStore& store) {
  auto snapshot = store.LoadSnapshot(kSnapshotName);
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->has_value() || (*snapshot)->code_version != kProjectionCodeVersion) {
    return std::optional<SnapshotCheck>();
  }
  const eventstore::Snapshot& stored = **snapshot;
  SnapshotCheck check{stored.position, false};
  if (stored.position <= store.HeadPosition()) {
    Result<State> rebuilt = Rebuild(store, "", stored.position);
    if (!rebuilt.ok()) return rebuilt.status();
    check.matches_log = SerializeState(*rebuilt) == stored.blob;
  }
  return std::optional<SnapshotCheck>(check);
}

}  // namespace custody::projections
