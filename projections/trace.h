#pragma once

// What one event changed in a tenant's view, in words an engineer reads while debugging:
// "owner: alice → bob", "access: - carol", "onboarding bob: start → next".

#include <string>
#include <vector>

#include "domain/event.h"
#include "projections/tenant_view.h"

namespace custody::projections {

// The differences between `before` and `after` (the view before and after `event`).
std::vector<std::string> DescribeChanges(const TenantView& before, const TenantView& after,
                                         const Event& event);

}  // namespace custody::projections
