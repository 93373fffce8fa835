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

Response UnknownTenant(const Call& call) {
  return Problem(call.request, 404, "not_found", "no such tenant: " + call.tenant);
}

// A tenant with no events as of `position`: if it has some now, the answer says so, and for a
// time which clock `at=` reads, as the times the answers show are the commands' occurred_at.
Response TenantNotYet(const Call& call, const At& at, std::int64_t position) {
  const bool exists_now = call.context.app.projections->ReadTenant(
      call.tenant, [](const TenantView* view, std::int64_t) {
        return view != nullptr && view->instance.created;
      });
  if (!exists_now) return UnknownTenant(call);
  std::string detail =
      "tenant " + call.tenant + " did not exist yet as of position " + std::to_string(position);
  if (at.time) {
    detail += position == 0 ? ": no event was recorded by " : ", the last recorded by ";
    detail += FormatTime(*at.time) +
              " (at= reads the time each event was recorded, recorded_at, not its occurred_at)";
  }
  return Problem(call.request, 404, "not_found", detail);
}

json::value Render(const Call& call, StateQuery query, const TenantView& view, std::int64_t as_of,
                   std::optional<Response>* missing) {
  switch (query) {
    case StateQuery::kMarketo:
      return projections::RenderMarketo(view, as_of);
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
      // Attempts by someone never invited are kept (and refused), but they are no member.
      if (view.instance.member(call.member) == nullptr || view.onboarding.count(call.member) == 0) {
        break;
      }
      return projections::RenderOnboardingMember(view, call.member);
  }
  *missing = Problem(call.request, 404, "not_found",
                     "no such member in tenant " + call.tenant + ": " + call.member);
  return nullptr;
}

// The answer from `view` (nullptr: no such tenant) as of `as_of`.
Response Answer(const Call& call, StateQuery query, const TenantView* view, std::int64_t as_of) {
  if (view == nullptr || !view->instance.created) return UnknownTenant(call);
  std::optional<Response> missing;
  json::value answer = Render(call, query, *view, as_of, &missing);
  if (missing) return std::move(*missing);
  Response response = JsonResponse(200, json::serialize(answer));
  // Which position the answer is as of, for every query (the marketo body also has it).
  response.headers.emplace_back("X-Custody-As-Of", std::to_string(as_of));
  return response;
}

}  // namespace

Response HandleStateQuery(const Call& call, StateQuery query) {
  auto at = ParseAt(call.params);
  if (const auto* error = std::get_if<ParamError>(&at)) return BadParam(call.request, *error);
  App& app = call.context.app;
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
  if (position && *position < app.projections->Position()) {
    auto past = app.projections->TenantAt(call.tenant, *position);
    if (!past.ok()) return StorageProblem(call.request, past.status());
    if (*past && (*past)->instance.created) return Answer(call, query, &**past, *position);
    return TenantNotYet(call, *std::get<std::optional<At>>(at), *position);
  }
  // The current view, answered in place under the projections' shared lock (no copy of a large
  // tenant's view); as of the last position applied.
  return app.projections->ReadTenant(call.tenant, [&](const TenantView* view, std::int64_t head) {
    return Answer(call, query, view, head);
  });
}

}  // namespace custody::server
