#include "projections/past_views.h"

#include <algorithm>

#include "projections/projections.h"
#include "projections/replay.h"

namespace custody::projections {
namespace {

// `base` (null: nothing yet) moved on by the tenant's events in (after, until].
Result<TenantView> Advance(const eventstore::EventStore& store, const std::string& tenant,
                           const TenantView* base, std::int64_t after, std::int64_t until) {
  State state;
  if (base != nullptr) state.tenants.emplace(tenant, *base);
  Result<std::int64_t> replayed = ReplayInto(store, after, until, tenant, state);
  if (!replayed.ok()) return replayed.status();
  return std::move(state.tenants[tenant]);
}

}  // namespace

Result<std::optional<TenantView>> PastViews::At(const eventstore::EventStore& store,
                                                const std::string& tenant, std::int64_t position) {
  const std::int64_t grid = position - position % kGrid;
  auto [base_position, base] = Below(tenant, grid);
  if (base_position < grid) {
    // Two queries may build the same view at once; both get the same answer.
    Result<TenantView> built = Advance(store, tenant, base.get(), base_position, grid);
    if (!built.ok()) return built.status();
    base = std::make_shared<const TenantView>(std::move(built).value());
    Keep(tenant, grid, base);
  }
  Result<TenantView> view = Advance(store, tenant, base.get(), grid, position);
  if (!view.ok()) return view.status();
  if (view->last_position == 0) return std::optional<TenantView>();
  return std::optional<TenantView>(std::move(view).value());
}

std::pair<std::int64_t, std::shared_ptr<const TenantView>> PastViews::Below(
    const std::string& tenant, std::int64_t position) {
  std::lock_guard lock(mutex_);
  auto found = kept_.upper_bound(Key{tenant, position});
  if (found == kept_.begin()) return {0, nullptr};
  --found;
  if (found->first.first != tenant) return {0, nullptr};
  found->second.used = ++clock_;
  return {found->first.second, found->second.view};
}

void PastViews::Keep(const std::string& tenant, std::int64_t position,
                     std::shared_ptr<const TenantView> view) {
  std::lock_guard lock(mutex_);
  kept_[Key{tenant, position}] = Kept{std::move(view), ++clock_};
  if (kept_.size() <= kMaxViews) return;
  const auto oldest =
      std::min_element(kept_.begin(), kept_.end(),
                       [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
  kept_.erase(oldest);
}

}  // namespace custody::projections
