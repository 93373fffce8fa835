#include "projections/snapshot_check.h"

#include "projections/projections.h"

namespace custody::projections {

std::string RemovedEventsProblem(std::int64_t snapshot_position, std::int64_t head) {
  return "the projection snapshot was taken at position " + std::to_string(snapshot_position) +
         ", but the log ends at position " + std::to_string(head) +
         ": events were removed from its end";
}

std::string SnapshotCheck::Mismatch() const {
  if (BeyondHead()) return RemovedEventsProblem(position, head);
  return "the projection snapshot at position " + std::to_string(position) +
         " does not match the log";
}

Integrity Judge(const eventstore::VerifyReport& chain,
                const std::optional<SnapshotCheck>& snapshot) {
  if (!chain.ok && !chain.commands_altered) {
    return {false, chain.first_bad_position, chain.problem};
  }
  if (snapshot && snapshot->BeyondHead()) {
    return {false, snapshot->FirstRemovedPosition(), snapshot->Mismatch()};
  }
  std::string outside = chain.commands_altered ? chain.problem : "";
  if (snapshot && !snapshot->matches_log) {
    outside += (outside.empty() ? "" : "; ") + snapshot->Mismatch();
  }
  return {outside.empty(), std::nullopt, outside};
}

Result<std::optional<SnapshotCheck>> CheckSnapshot(const eventstore::EventStore& store) {
  auto snapshot = store.LoadSnapshot(kSnapshotName);
  if (!snapshot.ok()) return snapshot.status();
  if (!snapshot->has_value()) return std::optional<SnapshotCheck>();
  const eventstore::Snapshot& stored = **snapshot;
  Result<std::int64_t> head = store.ReadHeadPosition();  // 0 for a failed read would be a removal
  if (!head.ok()) return head.status();
  SnapshotCheck check{stored.position, *head, false};
  if (check.BeyondHead()) return std::optional<SnapshotCheck>(check);  // whatever code wrote it
  if (stored.code_version != kProjectionCodeVersion) return std::optional<SnapshotCheck>();
  Result<State> rebuilt = Rebuild(store, "", stored.position);
  if (!rebuilt.ok()) return rebuilt.status();
  check.matches_log = SerializeState(*rebuilt) == stored.blob;
  return std::optional<SnapshotCheck>(check);
}

}  // namespace custody::projections
