// History (page, export, live tail), integrity, health and metrics.

#include <algorithm>
#include <memory>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "projections/snapshot_check.h"
#include "server/event_json.h"
#include "server/handlers.h"
#include "server/problem.h"

namespace custody::server {
namespace {

namespace json = boost::json;

// The filters of the request, narrowed to the token's tenant. A Response when refused.
std::variant<HistoryParams, Response> ScopedParams(const Call& call, bool with_limit) {
  auto parsed = ParseHistoryParams(call.params, with_limit);
  if (const auto* error = std::get_if<ParamError>(&parsed)) return BadParam(call.request, *error);
  HistoryParams params = std::get<HistoryParams>(std::move(parsed));
  const std::string& own = call.principal->tenant;
  if (!own.empty()) {
    if (!params.filter.tenant.empty() && params.filter.tenant != own) {
      return Problem(call.request, 403, "forbidden", "this token may not access this tenant");
    }
    params.filter.tenant = own;  // a tenant's token sees its tenant only, asked or not
  }
  return params;
}

// The export format the Accept header asks for, if any: the first of the two listed.
std::optional<StreamPlan::Kind> ExportKind(std::string_view accept) {
  while (!accept.empty()) {
    const std::size_t comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    range = range.substr(0, range.find(';'));
    while (!range.empty() && range.front() == ' ') range.remove_prefix(1);
    while (!range.empty() && range.back() == ' ') range.remove_suffix(1);
    if (range == "application/x-ndjson") return StreamPlan::Kind::kNdjson;
    if (range == "text/csv") return StreamPlan::Kind::kCsv;
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

Response StreamResponse(std::string content_type, StreamPlan plan) {
  Response response;
  response.status = 200;
  response.content_type = std::move(content_type);
  response.stream = std::make_shared<StreamPlan>(std::move(plan));
  return response;
}

}  // namespace

Response HandleHistory(const Call& call) {
  auto scoped = ScopedParams(call, true);
  if (auto* refused = std::get_if<Response>(&scoped)) return std::move(*refused);
  const HistoryParams& params = std::get<HistoryParams>(scoped);
  App& app = call.context.app;
  if (const auto kind = ExportKind(call.request.accept)) {
    StreamPlan plan{*kind, params.filter};
    // The export is the history as of its request: it ends at today's head.
    plan.filter.until_position = app.store->HeadPosition();
    return StreamResponse(
        *kind == StreamPlan::Kind::kCsv ? "text/csv; charset=utf-8" : "application/x-ndjson",
        std::move(plan));
  }
  auto page = app.store->Query(params.filter, params.limit);
  if (!page.ok()) return StorageProblem(call.request, page.status());
  return JsonResponse(200, PageBody(page->events, page->next_after));
}

Response HandleLive(const Call& call) {
  auto scoped = ScopedParams(call, false);
  if (auto* refused = std::get_if<Response>(&scoped)) return std::move(*refused);
  StreamPlan plan{StreamPlan::Kind::kLive, std::get<HistoryParams>(scoped).filter};
  const bool has_after = call.params.count("after") > 0;
  if (call.request.has_last_event_id) {
    const auto last = ParseNonNegative(call.request.last_event_id);
    if (!last) {
      return BadParam(call.request, {"Last-Event-ID", "'Last-Event-ID' must be a position"});
    }
    // A reconnecting client resumes after what it saw, whatever its URL says.
    plan.filter.after_position = std::max(plan.filter.after_position, *last);
  } else if (!has_after) {
    // No cursor: only what is committed from now on. Fixed here, before the stream
    // subscribes, so nothing committed after this answer can be missed.
    plan.filter.after_position = call.context.app.store->HeadPosition();
  }
  Response response = StreamResponse("text/event-stream", std::move(plan));
  response.headers.emplace_back("Cache-Control", "no-cache");
  return response;
}

Response HandleIntegrity(const Call& call) {
  auto report = call.context.app.store->Verify();
  if (!report.ok()) return StorageProblem(call.request, report.status());
  // The projections' snapshot is outside the chain; a copy edited in the file would be served
  // after a restart, so it is checked too (the server rebuilds from the log when it finds one).
  auto snapshot = projections::CheckSnapshot(*call.context.app.store);
  if (!snapshot.ok()) return StorageProblem(call.request, snapshot.status());
  const bool snapshot_ok = !snapshot->has_value() || (*snapshot)->matches_log;
  std::string problem = report->problem;
  if (problem.empty() && !snapshot_ok) {
    problem = (*snapshot)->Mismatch();
  }
  json::object body{
      {"ok", report->ok && snapshot_ok},
      {"events", report->events},
      {"head", json::object{{"position", report->head_position}, {"hash", report->head_hash}}},
      {"first_bad_position", report->first_bad_position ? json::value(*report->first_bad_position)
                                                        : json::value(nullptr)},
      {"problem", problem.empty() ? json::value(nullptr) : json::value(problem)},
      {"snapshot", snapshot->has_value()
                       ? json::value(json::object{{"position", (*snapshot)->position},
                                                  {"matches_log", (*snapshot)->matches_log}})
                       : json::value(nullptr)},
  };
  return JsonResponse(200, json::serialize(body));
}

Response HandleHealth(const Call& call) {
  json::object body{{"status", "ok"}, {"position", call.context.app.store->HeadPosition()}};
  return JsonResponse(200, json::serialize(body));
}

Response HandleMetrics(const Call& call) {
  App& app = call.context.app;
  auto size = app.store->DatabaseSizeBytes();
  Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = call.context.metrics.Render(
      size.ok() ? std::optional<std::int64_t>(*size) : std::nullopt, app.store->HeadPosition());
  return response;
}

}  // namespace custody::server
