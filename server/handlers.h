#pragma once

// The handlers behind the router: each decodes what is left of the request, calls the
// projections, command service or event store, and renders the answer. The router has already
// checked the route, the method, the token, the role and the tenant.

#include <string>

#include "server/auth.h"
#include "server/query_params.h"
#include "server/request.h"
#include "server/router.h"

namespace custody::server {

// What a route is for, once matched.
struct Call {
  const Request& request;
  Context& context;
  const Principal* principal;  // nullptr on routes without authentication
  std::string tenant;          // {tenant} of the path, if any
  std::string member;          // {member} of the path, if any
  Params params;               // the decoded query string
};

// 400 invalid_field naming a query parameter that is unknown or malformed.
Response BadParam(const Request& request, const ParamError& error);

// POST /v1/tenants and POST /v1/tenants/{t}/commands.
Response HandleCreateTenant(const Call& call);
Response HandleCommand(const Call& call);

// The state queries of one tenant.
enum class StateQuery { kMarketo, kCustody, kRemovalCheck, kOnboardingList, kFunnel, kMember };
Response HandleStateQuery(const Call& call, StateQuery query);

// GET /v1/events (JSON page or a planned export) and GET /v1/events/live (a planned stream).
Response HandleHistory(const Call& call);
Response HandleLive(const Call& call);

// GET /v1/integrity, /healthz, /metrics.
Response HandleIntegrity(const Call& call);
Response HandleHealth(const Call& call);
Response HandleMetrics(const Call& call);

}  // namespace custody::server
