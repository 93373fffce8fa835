#pragma once

// The answers of the state queries of API.md, as JSON values. Shared by the HTTP server and
// `custody replay`, so both print the same shapes.

#include <cstdint>
#include <string>

#include <boost/json/value.hpp>

#include "domain/event.h"
#include "projections/projections.h"
#include "projections/tenant_view.h"

namespace custody::projections {

// GET /v1/tenants/{t}/marketo
boost::json::value RenderMarketo(const TenantView& view, std::int64_t as_of);
// GET /v1/tenants/{t}/marketo/custody
boost::json::value RenderCustody(const TenantView& view);
// GET /v1/tenants/{t}/members/{m}/removal-check; the member must exist.
boost::json::value RenderRemovalCheck(const TenantView& view, const std::string& member);
// GET /v1/tenants/{t}/onboarding
boost::json::value RenderOnboardingList(const TenantView& view);
// GET /v1/tenants/{t}/onboarding/{m}; the member must have been invited.
boost::json::value RenderOnboardingMember(const TenantView& view, const std::string& member);
// GET /v1/tenants/{t}/onboarding/funnel
boost::json::value RenderFunnel(const TenantView& view);

// Everything about one tenant (what `custody replay` prints).
boost::json::value RenderTenant(const std::string& tenant, const TenantView& view,
                                std::int64_t as_of);

}  // namespace custody::projections
