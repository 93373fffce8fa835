#pragma once

// The live projections: every tenant's view, updated as events commit, persisted with a
// checkpoint position so a restart replays only the tail, and rebuilt as of any position for
// time travel.

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <cereal/types/unordered_map.hpp>

#include "domain/status.h"
#include "eventstore/event_store.h"
#include "projections/past_views.h"
#include "projections/tenant_view.h"

namespace custody::projections {

// Bump when TenantView, Apply or anything they use changes meaning or layout: stored
// snapshots of another version are ignored and the projections are rebuilt from the log.
inline constexpr int kProjectionCodeVersion = 2;
inline constexpr char kSnapshotName[] = "tenants";

// Every tenant's view as of one position.
struct State {
  // Hashed: every replayed event looks its tenant up. Saved in name order, as a std::map
  // would be, so that equal states give equal bytes.
  std::unordered_map<std::string, TenantView> tenants;
  std::int64_t position = 0;  // the last event applied

  using Tenant = std::unordered_map<std::string, TenantView>::value_type;
  // The tenants in name order.
  std::vector<const Tenant*> SortedTenants() const;

  template <class A>
  void save(A& a) const {
    a(cereal::make_size_tag(static_cast<cereal::size_type>(tenants.size())));
    for (const auto* tenant : SortedTenants())
      a(cereal::make_map_item(tenant->first, tenant->second));
    a(position);
  }
  template <class A>
  void load(A& a) {
    a(tenants, position);
  }
  bool operator==(const State&) const = default;
};

// Applies one stored event; kCorruption if its data cannot be decoded.
Status ApplyEvent(State& state, const Event& event);

// Serialises a State with cereal's portable binary archive; equal states give equal bytes.
std::string SerializeState(const State& state);
Result<State> DeserializeState(const std::string& bytes);

// Rebuilds the state from the log: every event with position <= until (all when nullopt), of
// one tenant only when `tenant` is not empty.
Result<State> Rebuild(const eventstore::EventStore& store, const std::string& tenant,
                      std::optional<std::int64_t> until);

class Projections {
 public:
  // Loads the stored snapshot when it is of this code version, replays the log after it, and
  // subscribes to new commits. The store must outlive the Projections.
  static Result<std::unique_ptr<Projections>> Open(eventstore::EventStore& store);
  ~Projections();

  // A copy of one tenant's current view; nullopt for an unknown tenant.
  std::optional<TenantView> Tenant(const std::string& tenant) const;
  // Calls read(view, position) under a shared lock, without copying the view: `view` is the
  // tenant's current view (nullptr for an unknown tenant) and `position` the last position
  // applied. `read` must be quick and must not call the store or these projections (commits
  // wait for it). Returns what `read` returns.
  template <typename Read>
  auto ReadTenant(const std::string& tenant, Read&& read) const {
    std::shared_lock lock(mutex_);
    const auto found = state_.tenants.find(tenant);
    return read(found == state_.tenants.end() ? nullptr : &found->second, state_.position);
  }
  // The tenant's view as of `position` (the current view when position >= Position()). Past
  // views are rebuilt from a kept view at most PastViews::kGrid positions earlier.
  Result<std::optional<TenantView>> TenantAt(const std::string& tenant,
                                             std::int64_t position) const;
  // The last position applied.
  std::int64_t Position() const;
  // A copy of the whole state (for tests and replay comparisons).
  State Copy() const;

  // Writes a snapshot at the current position, if it moved since the last one.
  Status Checkpoint();
  // Replaces the whole state by a rebuild from the log (commits wait meanwhile), and lets the
  // next Checkpoint write a new snapshot: for a snapshot found not to match the log.
  Status RebuildFromLog();

  // The first committed event that could not be applied, if any (ok otherwise).
  Status failure() const;

  // How many events Open replayed after the snapshot it loaded (all of them without one).
  std::int64_t replayed_on_open() const { return replayed_on_open_; }

 private:
  Projections(eventstore::EventStore& store, State state, std::int64_t checkpoint,
              std::int64_t replayed);
  void OnCommit(const std::vector<Event>& events);

  eventstore::EventStore& store_;
  mutable std::shared_mutex mutex_;
  State state_;
  std::int64_t checkpoint_position_ = 0;
  Status failure_;  // the first event that could not be applied, if any
  int subscription_ = -1;
  std::int64_t replayed_on_open_ = 0;
  mutable PastViews past_;  // for TenantAt
};

}  // namespace custody::projections
