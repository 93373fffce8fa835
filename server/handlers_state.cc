// The state queries of one tenant, current or as of `at=` (a position or a time).

#include <algorithm>
#include <variant>

#include <boost/json/serialize.hpp>

#include "projections/render.h"
#include "server/handlers.h"
#include "server/problem.h"

namespace custody::server {
namespace {

namespace json = boost::json;
using projections::TenantView;

struct ViewAt {
  TenantView view;
  std::int64_t as_of = 0;  // the position the view answers as of
};

Response BadParam(const Call& call, const ParamError& error) {
  return Problem(call.request, 400, "invalid_field", error.message, {{"field", error.field}});
}

Response UnknownTenant(const Call& call) {
  return Problem(call.request, 404, "not_found", "no such tenant: " + call.tenant);
}

// Loads the view the query answers from; a Response when it cannot.
std::variant<ViewAt, Response> LoadView(const Call& call) {
  static constexpr std::string_view kParams[] = {"at"};
  if (auto error = RejectUnknown(call.params, kParams)) return BadParam(call, *error);
  auto at = ParseAt(call.params);
  if (const auto* error = std::get_if<ParamError>(&at)) return BadParam(call, *error);
  App& app = call.context.app;
  // Read before the view: everything up to it is in the view (later events of this tenant
  // move as_of to the view's own last position).
  const std::int64_t head = app.projections->Position();
  std::optional<std::int64_t> position;
  if (const auto& given = std::get<std::optional<At>>(at)) {
    if (given->position) {
      position = *given->position;
    } else {
      auto resolved = app.store->PositionAt(*given->time);
      if (!resolved.ok()) return StorageProblem(call.request, resolved.status());
      position = *resolved;
    }
  }
  const bool past = position && *position < head;
  std::optional<TenantView> view;
  if (past) {
    auto past = app.projections->TenantAt(call.tenant, *position);
    if (!past.ok()) return StorageProblem(call.request, past.status());
    view = std::move(*past);
  } else {
    view = app.projections->Tenant(call.tenant);
  }
  if (!view || !view->instance.created) return UnknownTenant(call);
  const std::int64_t as_of = past ? *position : std::max(head, view->last_position);
  return ViewAt{std::move(*view), as_of};
}

json::value Render(const Call& call, StateQuery query, const ViewAt& at,
                   std::optional<Response>* missing) {
  const TenantView& view = at.view;
  switch (query) {
    case StateQuery::kMarketo:
      return projections::RenderMarketo(view, at.as_of);
    case StateQuery::kCustody:
      return projections::RenderCustody(view);
    case StateQuery::kOnboardingList:
      return projections::RenderOnboardingList(view);
    case StateQuery::kFunnel:
      return projections::RenderFunnel(view);
    case StateQuery::kRemovalCheck:
      if (view.instance.member(call.member) == nullptr) break;
      return projections::RenderRemovalCheck(view, call.member);
    case StateQuery::kMember:
      if (view.onboarding.count(call.member) == 0) break;
      return projections::RenderOnboardingMember(view, call.member);
  }
  *missing = Problem(call.request, 404, "not_found",
                     "no such member in tenant " + call.tenant + ": " + call.member);
  return nullptr;
}

}  // namespace

Response HandleStateQuery(const Call& call, StateQuery query) {
  auto loaded = LoadView(call);
  if (auto* response = std::get_if<Response>(&loaded)) return std::move(*response);
  const ViewAt& at = std::get<ViewAt>(loaded);
  std::optional<Response> missing;
  json::value answer = Render(call, query, at, &missing);
  if (missing) return std::move(*missing);
  Response response = JsonResponse(200, json::serialize(answer));
  // Which position the answer is as of, for every query (the marketo body also has it).
  response.headers.emplace_back("X-Custody-As-Of", std::to_string(at.as_of));
  return response;
}

}  // namespace custody::server
