#include "server/router.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "domain/command_codec.h"
#include "server/handlers.h"
#include "server/problem.h"

namespace custody::server {
namespace {

enum class RouteId {
  kHealth,
  kMetrics,
  kIntegrity,
  kEvents,
  kLive,
  kCreateTenant,
  kCommands,
  kMarketo,
  kCustody,
  kRemovalCheck,
  kOnboardingList,
  kFunnel,
  kOnboardingMember,
};

// The query parameters of the history routes and of the state queries.
constexpr std::string_view kLiveParams[] = {"tenant",  "stream", "type",  "actor",
                                            "subject", "since",  "until", "after"};
constexpr std::string_view kHistoryParams[] = {"tenant", "stream", "type",  "actor", "subject",
                                               "since",  "until",  "after", "limit"};
constexpr std::string_view kStateParams[] = {"at"};
using KnownParams = std::optional<std::span<const std::string_view>>;
// Health and metrics take any query: probes and scrapers add their own.
constexpr KnownParams kAnyParams = std::nullopt;
constexpr KnownParams kNoParams = std::span<const std::string_view>();

struct RouteSpec {
  RouteId id;
  std::string_view method;
  std::string_view pattern;
  std::optional<Action> action;  // nullopt: no token needed
  // The query parameters the route knows; any other is refused (a misspelt filter must not
  // widen an answer silently). nullopt: any is accepted.
  KnownParams params;
};

bool TakesParam(const RouteSpec& route, std::string_view name) {
  return route.params &&
         std::find(route.params->begin(), route.params->end(), name) != route.params->end();
}

// First match wins: the literal /onboarding/funnel comes before /onboarding/{member}.
constexpr RouteSpec kRoutes[] = {
    {RouteId::kHealth, "GET", "/healthz", std::nullopt, kAnyParams},
    {RouteId::kMetrics, "GET", "/metrics", std::nullopt, kAnyParams},
    {RouteId::kIntegrity, "GET", "/v1/integrity", Action::kHistory, kNoParams},
    {RouteId::kEvents, "GET", "/v1/events", Action::kHistory, kHistoryParams},
    {RouteId::kLive, "GET", "/v1/events/live", Action::kHistory, kLiveParams},
    {RouteId::kCreateTenant, "POST", "/v1/tenants", Action::kCreateTenant, kNoParams},
    {RouteId::kCommands, "POST", "/v1/tenants/{tenant}/commands", Action::kCommand, kNoParams},
    {RouteId::kMarketo, "GET", "/v1/tenants/{tenant}/marketo", Action::kStateQuery, kStateParams},
    {RouteId::kCustody, "GET", "/v1/tenants/{tenant}/marketo/custody", Action::kStateQuery,
     kStateParams},
    {RouteId::kRemovalCheck, "GET", "/v1/tenants/{tenant}/members/{member}/removal-check",
     Action::kStateQuery, kStateParams},
    {RouteId::kOnboardingList, "GET", "/v1/tenants/{tenant}/onboarding", Action::kStateQuery,
     kStateParams},
    {RouteId::kFunnel, "GET", "/v1/tenants/{tenant}/onboarding/funnel", Action::kStateQuery,
     kStateParams},
    {RouteId::kOnboardingMember, "GET", "/v1/tenants/{tenant}/onboarding/{member}",
     Action::kStateQuery, kStateParams},
};

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

// Matches decoded path segments against a pattern, filling {tenant} and {member}.
bool Matches(std::string_view pattern, const std::vector<std::string>& segments,
             std::string* tenant, std::string* member) {
  const std::vector<std::string_view> parts = Split(pattern);
  if (parts.size() != segments.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "{tenant}" || parts[i] == "{member}") {
      if (segments[i].empty()) return false;
      *(parts[i] == "{tenant}" ? tenant : member) = segments[i];
    } else if (parts[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Response BadParam(const Request& request, const ParamError& error) {
  return Problem(request, 400, "invalid_field", error.message, {{"field", error.field}});
}

namespace {

Response Dispatch(const RouteSpec& route, const Call& call) {
  if (route.params) {
    if (auto error = RejectUnknown(call.params, *route.params))
      return BadParam(call.request, *error);
  }
  switch (route.id) {
    case RouteId::kHealth:
      return HandleHealth(call);
    case RouteId::kMetrics:
      return HandleMetrics(call);
    case RouteId::kIntegrity:
      return HandleIntegrity(call);
    case RouteId::kEvents:
      return HandleHistory(call);
    case RouteId::kLive:
      return HandleLive(call);
    case RouteId::kCreateTenant:
      return HandleCreateTenant(call);
    case RouteId::kCommands:
      return HandleCommand(call);
    case RouteId::kMarketo:
      return HandleStateQuery(call, StateQuery::kMarketo);
    case RouteId::kCustody:
      return HandleStateQuery(call, StateQuery::kCustody);
    case RouteId::kRemovalCheck:
      return HandleStateQuery(call, StateQuery::kRemovalCheck);
    case RouteId::kOnboardingList:
      return HandleStateQuery(call, StateQuery::kOnboardingList);
    case RouteId::kFunnel:
      return HandleStateQuery(call, StateQuery::kFunnel);
    case RouteId::kOnboardingMember:
      return HandleStateQuery(call, StateQuery::kMember);
  }
  return Problem(call.request, 404, "not_found", "no such route");
}

Response Unauthenticated(const Request& request) {
  Response response = Problem(request, 401, "unauthenticated",
                              "a live bearer token is required: Authorization: Bearer TOKEN");
  response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"custody\"");
  return response;
}

// Everything after the route and method are known: token, role, tenant, query, handler.
Response Authorized(const RouteSpec& route, const Request& request, Context& context,
                    std::string tenant, std::string member, Principal* principal) {
  if (route.action) {
    auto found = Authenticate(*context.app.tokens, request.authorization);
    if (!found.ok()) return StorageProblem(request, found.status());
    if (!found->has_value()) return Unauthenticated(request);
    *principal = **found;
    if (!RoleAllows(*principal, *route.action)) {
      return Problem(request, 403, "forbidden", "this token's role may not use this route");
    }
    if (!tenant.empty() && !TenantAllowed(*principal, tenant)) {
      return Problem(request, 403, "forbidden", "this token may not access this tenant");
    }
  }
  // Ids in the path are judged like those in a body or a query: a malformed one is the
  // request's mistake (400), not a tenant or member that does not exist (404).
  if (std::string problem = TenantIdProblem(tenant); !tenant.empty() && !problem.empty()) {
    return BadParam(request, {"tenant", std::move(problem)});
  }
  if (std::string problem = MemberIdProblem(member); !member.empty() && !problem.empty()) {
    return BadParam(request, {"member", std::move(problem)});
  }
  Params params;
  const std::size_t question = request.target.find('?');
  if (question != std::string::npos && route.params) {  // probes' own parameters are ignored
    auto parsed = ParseQuery(std::string_view(request.target).substr(question + 1));
    if (auto* error = std::get_if<ParamError>(&parsed)) return BadParam(request, *error);
    params = std::move(std::get<Params>(parsed));
  }
  // History names its tenant in the query, not the path: it is checked all the same, before
  // the other parameters, so that another tenant is 403 and not a hint about the rest.
  if (const auto asked = params.find("tenant"); TakesParam(route, "tenant") &&
                                                asked != params.end() && !asked->second.empty() &&
                                                !TenantAllowed(*principal, asked->second)) {
    return Problem(request, 403, "forbidden", "this token may not access this tenant");
  }
  const Call call{request,           context,           route.action ? principal : nullptr,
                  std::move(tenant), std::move(member), std::move(params)};
  return Dispatch(route, call);
}

// Runs `answer`; an unexpected exception is logged and becomes a 500 problem.
template <typename Answer>
Response Guarded(std::string_view method, std::string_view path, Answer&& answer) {
  try {
    return answer();
  } catch (const std::exception& e) {
    spdlog::error("unexpected error answering {} {}: {}", method, path, e.what());
  } catch (...) {
    spdlog::error("unexpected error answering {} {}", method, path);
  }
  return InternalError(path);
}

// A deferred answer carries the route and token labels of the request, like any other, and
// an exception, while starting it or rendering it, becomes a 500 problem as in Route.
std::function<void(Respond)> Labelled(std::function<void(Respond)> start, const Request& request,
                                      std::string route, std::string token_id) {
  return [start = std::move(start), method = request.method, path = PathOf(request.target),
          route = std::move(route), token_id = std::move(token_id)](Respond respond) {
    auto answered = std::make_shared<std::atomic<bool>>(false);
    auto deliver = [=](std::function<Response()> render) {
      if (answered->exchange(true)) return;
      respond([=, render = std::move(render)] {
        Response response = Guarded(method, path, render);
        response.route = route;
        response.token_id = token_id;
        return response;
      });
    };
    bool started = false;
    const Response failure = Guarded(method, path, [&] {
      start(deliver);
      started = true;
      return Response();
    });
    if (!started) deliver([failure] { return failure; });
  };
}

Response RouteRequest(const Request& request, Context& context) {
  const std::string path = PathOf(request.target);
  std::vector<std::string> segments;
  for (std::string_view raw : Split(path)) {
    // A malformed %-escape stays as sent: it matches no literal segment (404), and as a tenant
    // or member id it is no id (400 invalid_field, after the token's checks).
    auto decoded = PercentDecode(raw);
    segments.push_back(decoded ? std::move(*decoded) : std::string(raw));
  }
  // HEAD is GET without the body (RFC 9110, 9.3.2): routed as GET, the session sends the header.
  const std::string_view method =
      request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  std::string allow;
  std::string_view known_path;  // the pattern of a path that exists with other methods
  for (const RouteSpec& route : kRoutes) {
    std::string tenant, member;
    if (!Matches(route.pattern, segments, &tenant, &member)) continue;
    if (route.method != method) {
      known_path = route.pattern;
      const std::string methods = route.method == "GET" ? "GET, HEAD" : std::string(route.method);
      if (allow.find(methods) == std::string::npos) {
        allow += (allow.empty() ? "" : ", ") + methods;
      }
      continue;
    }
    Principal principal;
    Response response =
        Authorized(route, request, context, std::move(tenant), std::move(member), &principal);
    response.route = route.pattern;
    response.token_id = principal.token_id;
    if (response.deferred) {
      response.deferred =
          Labelled(std::move(response.deferred), request, response.route, response.token_id);
    }
    return response;
  }
  if (!allow.empty()) {
    Response response = Problem(request, 405, "method_not_allowed",
                                request.method + " is not allowed here; use " + allow);
    response.headers.emplace_back("Allow", allow);
    response.route = known_path;
    return response;
  }
  return Problem(request, 404, "not_found", "no such route: " + path);
}

}  // namespace

Response Route(const Request& request, Context& context) {
  return Guarded(request.method, PathOf(request.target),
                 [&] { return RouteRequest(request, context); });
}

Response Handle(const Request& request, Context& context) {
  Response response = Route(request, context);
  if (!response.deferred) return response;
  auto rendered = std::make_shared<std::promise<std::function<Response()>>>();
  std::future<std::function<Response()>> render = rendered->get_future();
  response.deferred(
      [rendered](std::function<Response()> answer) { rendered->set_value(std::move(answer)); });
  return render.get()();
}

}  // namespace custody::server
