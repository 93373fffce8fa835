#include "projections/projections.h"

#include <algorithm>
#include <mutex>
#include <sstream>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/common.hpp>

#include "projections/replay.h"
#include "projections/snapshot_check.h"

namespace custody::projections {

std::vector<const State::Tenant*> State::SortedTenants() const {
  std::vector<const Tenant*> sorted;
  sorted.reserve(tenants.size());
  for (const auto& tenant : tenants) sorted.push_back(&tenant);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* left, const auto* right) { return left->first < right->first; });
  return sorted;
}

Status ApplyEvent(State& state, const Event& event) {
  auto payload = events::DecodeEvent(event);
  if (!payload.ok()) {
    return Status::Corruption("event at position " + std::to_string(event.position) +
                              " cannot be decoded: " + payload.status().message());
  }
  Apply(state.tenants[event.tenant], event, *payload);
  state.position = event.position;
  return Status::Ok();
}

std::string SerializeState(const State& state) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive archive(out);
    archive(state);
  }
  return std::move(out).str();
}

Result<State> DeserializeState(const std::string& bytes) {
  State state;
  try {
    std::istringstream in(bytes);
    cereal::PortableBinaryInputArchive archive(in);
    archive(state);
  } catch (const std::exception& error) {
    return Status::Corruption(std::string("projection snapshot cannot be read: ") + error.what());
  }
  return state;
}

Result<State> Rebuild(const eventstore::EventStore& store, const std::string& tenant,
                      std::optional<std::int64_t> until) {
  State state;
  Result<std::int64_t> replayed = ReplayInto(store, 0, until, tenant, state);
  if (!replayed.ok()) return replayed.status();
  return state;
}

Result<std::unique_ptr<Projections>> Projections::Open(eventstore::EventStore& store) {
  State state;
  std::int64_t checkpoint = 0;
  auto snapshot = store.LoadSnapshot(kSnapshotName);
  if (!snapshot.ok()) return snapshot.status();
  // Appending now would write new events at the removed positions, and the next checkpoint
  // would replace the snapshot: the one trace of the removal would be gone.
  if (const std::int64_t head = store.HeadPosition();
      snapshot->has_value() && (*snapshot)->position > head) {
    return Status::Corruption(RemovedEventsProblem((*snapshot)->position, head) +
                              "; custody verify reports it. To go on from what is left, "
                              "export it and import it into a new database");
  }
  if (snapshot->has_value() && (*snapshot)->code_version == kProjectionCodeVersion) {
    auto loaded = DeserializeState((*snapshot)->blob);
    if (loaded.ok()) {
      state = std::move(loaded).value();
      checkpoint = state.position;
    }
  }
  // Replay the tail after the snapshot (everything when there was none or it was stale).
  Result<std::int64_t> replayed = ReplayInto(store, state.position, std::nullopt, "", state);
  if (!replayed.ok()) return replayed.status();

  std::unique_ptr<Projections> projections(
      new Projections(store, std::move(state), checkpoint, *replayed));
  Projections* self = projections.get();
  projections->subscription_ =
      store.Subscribe([self](const std::vector<Event>& events) { self->OnCommit(events); });
  return projections;
}

Projections::Projections(eventstore::EventStore& store, State state, std::int64_t checkpoint,
                         std::int64_t replayed)
    : store_(store),
      state_(std::move(state)),
      checkpoint_position_(checkpoint),
      replayed_on_open_(replayed) {}

Projections::~Projections() {
  if (subscription_ >= 0) store_.Unsubscribe(subscription_);
}

void Projections::OnCommit(const std::vector<Event>& events) {
  std::unique_lock lock(mutex_);
  for (const Event& event : events) {
    if (event.position <= state_.position) continue;  // already applied during catch-up
    // Every committed event decodes: the command service encodes them and import checks
    // them, so a failure here is a bug, kept visible through failure().
    Status applied = ApplyEvent(state_, event);
    if (!applied.ok() && failure_.ok()) failure_ = applied;
  }
}

Status Projections::failure() const {
  std::shared_lock lock(mutex_);
  return failure_;
}

std::optional<TenantView> Projections::Tenant(const std::string& tenant) const {
  std::shared_lock lock(mutex_);
  const auto found = state_.tenants.find(tenant);
  if (found == state_.tenants.end()) return std::nullopt;
  return found->second;
}

Result<std::optional<TenantView>> Projections::TenantAt(const std::string& tenant,
                                                        std::int64_t position) const {
  if (position >= Position()) return Tenant(tenant);
  return past_.At(store_, tenant, position);
}

std::int64_t Projections::Position() const {
  std::shared_lock lock(mutex_);
  return state_.position;
}

State Projections::Copy() const {
  std::shared_lock lock(mutex_);
  return state_;
}

Status Projections::Checkpoint() {
  std::string blob;
  std::int64_t position;
  {
    std::shared_lock lock(mutex_);
    if (state_.position == checkpoint_position_) return Status::Ok();
    position = state_.position;
    blob = SerializeState(state_);
  }
  Status saved = store_.SaveSnapshot({kSnapshotName, kProjectionCodeVersion, position, blob});
  if (saved.ok()) {
    std::unique_lock lock(mutex_);
    checkpoint_position_ = std::max(checkpoint_position_, position);
  }
  return saved;
}

Status Projections::RebuildFromLog() {
  std::unique_lock lock(mutex_);
  // Commits already on disk whose listener waits for this lock are in the rebuild; the
  // listener skips them by position.
  Result<State> rebuilt = Rebuild(store_, "", std::nullopt);
  if (!rebuilt.ok()) return rebuilt.status();
  state_ = std::move(rebuilt).value();
  checkpoint_position_ = 0;
  return Status::Ok();
}

}  // namespace custody::projections
