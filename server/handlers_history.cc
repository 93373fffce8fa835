// History (page, export, live tail), integrity, health and metrics.

#include <algorithm>
#include <charconv>
#include <memory>
#include <string_view>

#include <boost/beast/core/string.hpp>
#include <boost/json/serialize.hpp>

#include "domain/command_codec.h"
#include "projections/snapshot_check.h"
#include "server/event_json.h"
#include "server/handlers.h"
#include "server/problem.h"

namespace custody::server {
namespace {

namespace beast = boost::beast;
namespace json = boost::json;

// The filters of the request, narrowed to the token's tenant. A Response when refused.
// Another tenant in the filters was refused with the token (Authorized, in router.cc).
std::variant<HistoryParams, Response> ScopedParams(const Call& call, bool with_limit) {
  const std::string& own = call.principal->tenant;
  auto parsed = ParseHistoryParams(call.params, with_limit);
  if (const auto* error = std::get_if<ParamError>(&parsed)) return BadParam(call.request, *error);
  HistoryParams params = std::get<HistoryParams>(std::move(parsed));
  // A stream names its tenant: another tenant's is refused as `tenant=` would be, and one that
  // contradicts `tenant=` could match nothing.
  if (const std::string& stream = params.filter.stream; !stream.empty()) {
    const std::string_view of = StreamTenant(stream).value_or("");
    if (!own.empty() && of != own) {
      return Problem(call.request, 403, "forbidden", "this token may not access this tenant");
    }
    if (!params.filter.tenant.empty() && of != params.filter.tenant) {
      return BadParam(call.request,
                      {"stream", "'" + stream + "' is a stream of tenant '" + std::string(of) +
                                     "', not of '" + params.filter.tenant + "'"});
    }
  }
  if (!own.empty()) params.filter.tenant = own;  // a tenant's token sees its tenant only
  return params;
}

// The weight of one media range: its q parameter (RFC 9110, 12.4.2), 1 when absent. A malformed
// q counts as 1, as if the parameter were not there.
double Weight(std::string_view parameters) {
  double found = 1;
  ForEachMediaParameter(parameters, [&found](std::string_view name, std::string_view value) {
    if ((name != "q" && name != "Q") || value.empty()) return true;
    double weight = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), weight);
    if (error == std::errc() && end == value.data() + value.size() && weight >= 0 && weight <= 1) {
      found = weight;
    }
    return false;  // the first q decides
  });
  return found;
}

// The export format the Accept header prefers to the JSON page, if any. Each representation
// takes the weight of the most specific range naming it (JSON also answers to application/*
// and */*, the exports only to their own names). The heaviest wins; on equal weights the more
// specific range, then the one listed first. q=0 refuses a format; when nothing acceptable is
// named, the answer is the JSON page.
std::optional<StreamPlan::Kind> ExportKind(std::string_view accept) {
  struct Candidate {
    std::optional<StreamPlan::Kind> kind;  // nullopt: the JSON page
    double weight = 0;
    int specificity = 0;  // 0: not named
    std::size_t order = 0;
  };
  Candidate candidates[] = {{std::nullopt}, {StreamPlan::Kind::kNdjson}, {StreamPlan::Kind::kCsv}};
  auto consider = [](Candidate& candidate, double weight, int specificity, std::size_t order) {
    if (specificity > candidate.specificity) {
      candidate.weight = weight;
      candidate.specificity = specificity;
      candidate.order = order;
    }
  };
  for (std::size_t order = 0; !accept.empty(); ++order) {
    const std::size_t comma = accept.find(',');
    const std::string_view element = accept.substr(0, comma);
    const std::size_t semicolon = element.find(';');
    const std::string_view range = TrimOws(element.substr(0, semicolon));
    const double weight =
        semicolon == std::string_view::npos ? 1 : Weight(element.substr(semicolon + 1));
    if (beast::iequals(range, "application/json")) consider(candidates[0], weight, 3, order);
    if (beast::iequals(range, "application/*")) consider(candidates[0], weight, 2, order);
    if (range == "*/*") consider(candidates[0], weight, 1, order);
    if (beast::iequals(range, "application/x-ndjson")) consider(candidates[1], weight, 3, order);
    if (beast::iequals(range, "text/csv")) consider(candidates[2], weight, 3, order);
    if (comma == std::string_view::npos) break;
    accept.remove_prefix(comma + 1);
  }
  const Candidate* best = nullptr;
  for (const Candidate& candidate : candidates) {
    if (candidate.specificity == 0 || candidate.weight <= 0) continue;
    if (best == nullptr || candidate.weight > best->weight ||
        (candidate.weight == best->weight &&
         (candidate.specificity > best->specificity ||
          (candidate.specificity == best->specificity && candidate.order < best->order)))) {
      best = &candidate;
    }
  }
  return best == nullptr ? std::nullopt : best->kind;
}

// The same URL answers a page or an export by the Accept header: a cache must key on it too
// (RFC 9110, 12.5.5).
Response VariesWithAccept(Response response) {
  response.headers.emplace_back("Vary", "Accept");
  return response;
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
    if (call.params.count("limit") > 0) {
      return BadParam(call.request, {"limit",
                                     "'limit' pages the JSON history; an export streams "
                                     "the whole filtered history (page it with 'after' "
                                     "and 'until' instead)"});
    }
    StreamPlan plan{*kind, params.filter, call.principal->token_id};
    // The export is the history as of its request: it ends at today's head.
    plan.filter.until_position = app.store->HeadPosition();
    return VariesWithAccept(StreamResponse(
        *kind == StreamPlan::Kind::kCsv ? "text/csv; charset=utf-8" : "application/x-ndjson",
        std::move(plan)));
  }
  auto page = app.store->Query(params.filter, params.limit);
  if (!page.ok()) return StorageProblem(call.request, page.status());
  return VariesWithAccept(JsonResponse(200, PageBody(page->events, page->next_after)));
}

Response HandleLive(const Call& call) {
  auto scoped = ScopedParams(call, false);
  if (auto* refused = std::get_if<Response>(&scoped)) return std::move(*refused);
  StreamPlan plan{StreamPlan::Kind::kLive, std::get<HistoryParams>(scoped).filter,
                  call.principal->token_id};
  const bool has_after = call.params.count("after") > 0;
  const std::int64_t head = call.context.app.store->HeadPosition();
  if (call.request.has_last_event_id) {
    const auto last = ParseNonNegative(call.request.last_event_id);
    if (!last) {
      return BadParam(call.request, {"Last-Event-ID", "'Last-Event-ID' must be a position"});
    }
    // The stream only ever sends committed positions, so one this log has not reached was seen
    // in another log: resuming there would wait, silently, for events that are not the ones
    // the client missed.
    if (*last > head) {
      return BadParam(call.request, {"Last-Event-ID", "'Last-Event-ID' " + std::to_string(*last) +
                                                          " is past the head of the log (" +
                                                          std::to_string(head) + ")"});
    }
    // A reconnecting client resumes after what it saw, whatever its URL says.
    plan.filter.after_position = std::max(plan.filter.after_position, *last);
  } else if (!has_after) {
    // No cursor: only what is committed from now on. Fixed here, before the stream
    // subscribes, so nothing committed after this answer can be missed.
    plan.filter.after_position = head;
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
  const projections::Integrity integrity = projections::Judge(*report, *snapshot);
  json::object body{
      {"ok", integrity.ok},
      {"events", report->events},
      {"head", json::object{{"position", report->head_position}, {"hash", report->head_hash}}},
      {"first_bad_position", integrity.first_bad_position
                                 ? json::value(*integrity.first_bad_position)
                                 : json::value(nullptr)},
      {"problem",
       integrity.problem.empty() ? json::value(nullptr) : json::value(integrity.problem)},
      {"snapshot", snapshot->has_value()
                       ? json::value(json::object{{"position", (*snapshot)->position},
                                                  {"matches_log", (*snapshot)->matches_log}})
                       : json::value(nullptr)},
  };
  return JsonResponse(200, json::serialize(body));
}

Response HandleHealth(const Call& call) {
  json::object body{{"status", "ok"}, {"position", call.context.app.store->HeadPosition()}};
  const std::int64_t first_bad = call.context.app.chain_first_bad_position;
  if (first_bad > 0 || first_bad == kCommandsAltered) {
    body["chain"] = "altered";
    // When the events check out and only their index does not, no position is bad:
    // GET /v1/integrity says what is.
    body["first_bad_position"] = first_bad > 0 ? json::value(first_bad) : json::value(nullptr);
  } else if (first_bad == kChainCheckFailed) {
    body["chain"] = "error";  // the log could not be read: see the server's log
  } else {
    body["chain"] = first_bad == 0 ? "ok" : "unchecked";
  }
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
