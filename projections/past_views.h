#pragma once

// Tenant views as of past positions, for `at=` queries. Rebuilding a large tenant from its first
// event on every query is slow, so views are kept at grid positions (multiples of kGrid): a
// query replays only the tenant's events between the grid position below it and its own
// position. The log is append-only, so a view as of a past position never changes.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "domain/status.h"
#include "eventstore/event_store.h"
#include "projections/tenant_view.h"

namespace custody::projections {

class PastViews {
 public:
  // Positions between two kept views.
  static constexpr std::int64_t kGrid = 8192;
  // Views kept at most; the least recently used goes first.
  static constexpr std::size_t kMaxViews = 256;

  // The tenant's view as of `position` (nullopt: no event of the tenant by then). Thread-safe.
  Result<std::optional<TenantView>> At(const eventstore::EventStore& store,
                                       const std::string& tenant, std::int64_t position);

 private:
  using Key = std::pair<std::string, std::int64_t>;  // tenant, position
  struct Kept {
    std::shared_ptr<const TenantView> view;
    std::uint64_t used = 0;
  };
  // The kept view of `tenant` at the greatest position <= `position` (position 0, null view
  // when none).
  std::pair<std::int64_t, std::shared_ptr<const TenantView>> Below(const std::string& tenant,
                                                                   std::int64_t position);
  void Keep(const std::string& tenant, std::int64_t position,
            std::shared_ptr<const TenantView> view);

  std::mutex mutex_;
  std::map<Key, Kept> kept_;
  std::uint64_t clock_ = 0;
};

}  // namespace custody::projections
