// custody replay: rebuilds state from the log, never writing to it, and prints it as JSON.
// --trace first prints one JSON line per event with what it changed.

#include <algorithm>
#include <iostream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "eventstore/event_format.h"
#include "eventstore/event_store.h"
#include "projections/projections.h"
#include "projections/render.h"
#include "projections/replay.h"
#include "projections/trace.h"
#include "server/cli/cli.h"
#include "server/query_params.h"

namespace custody::cli {
namespace {

namespace po = boost::program_options;
namespace json = boost::json;

// --until is a position (digits) or an RFC 3339 time, resolved to the last position recorded
// by then.
Result<std::int64_t> ResolveUntil(const eventstore::EventStore& store, const std::string& until) {
  if (const auto position = server::ParseNonNegative(until)) return *position;
  if (const auto time = ParseTime(until)) return store.PositionAt(*time);
  return Status::InvalidArgument("--until must be a position or an RFC 3339 time, not '" + until +
                                 "'");
}

// The event as served (API, export), then what it changed.
json::object TraceLine(const Event& event, const std::vector<std::string>& changes) {
  json::object line = json::parse(eventstore::EventToJson(event)).as_object();
  json::array described;
  for (const auto& change : changes) described.emplace_back(change);
  line["changes"] = std::move(described);
  return line;
}

}  // namespace

int RunReplay(const Args& args) {
  std::string db, tenant, until;
  bool trace = false;
  po::options_description options("custody replay");
  AddDbOption(options, &db);
  options.add_options()("tenant", po::value(&tenant)->value_name("T"), "only this tenant")(
      "until", po::value(&until)->value_name("POSITION|TIME"), "stop after this position or time")(
      "trace", po::bool_switch(&trace), "print each event and what it changed");
  po::variables_map values;
  if (int code =
          Parse(args, "custody replay [--db PATH] [--tenant T] [--until POSITION|TIME] [--trace]",
                options, {}, values);
      code >= 0) {
    return code;
  }
  if (int code = CheckTenantOption(values, tenant); code >= 0) return code;
  auto store = eventstore::EventStore::OpenReadOnly(ResolveDb(db));
  if (!store.ok()) return StorageFailure(store.status());

  eventstore::Filter filter;
  filter.tenant = tenant;
  // The state is as of one position, as `at=` answers over HTTP: the one asked for, or the
  // head, even when the tenant's own last event came before it.
  Result<std::int64_t> read_head = (*store)->ReadHeadPosition();
  if (!read_head.ok()) return StorageFailure(read_head.status());
  const std::int64_t head = *read_head;
  filter.until_position = head;
  if (values.count("until")) {
    auto position = ResolveUntil(**store, until);
    if (!position.ok()) {
      return Fail(position.status().code() == Status::Code::kInvalidArgument ? kUsage : kStorage,
                  position.status().message());
    }
    filter.until_position = std::min(*position, head);
  }

  projections::State state;
  if (!trace) {
    auto replayed = projections::ReplayInto(**store, 0, filter.until_position, tenant, state);
    if (!replayed.ok()) return StorageFailure(replayed.status());
  } else {
    // Every event whole (the trace prints it as served), and the view before it to compare.
    Status failure;
    const Status scanned = (*store)->Scan(filter, [&](const Event& event) {
      const projections::TenantView before = state.tenants[event.tenant];
      failure = projections::ApplyEvent(state, event);
      if (failure.ok()) {
        const auto changes =
            projections::DescribeChanges(before, state.tenants[event.tenant], event);
        std::cout << json::serialize(TraceLine(event, changes)) << "\n";
      }
      return failure.ok();
    });
    if (!scanned.ok()) return StorageFailure(scanned);
    if (!failure.ok()) return StorageFailure(failure);
  }

  state.position = *filter.until_position;
  json::object tenants;
  for (const auto* tenant : state.SortedTenants()) {
    tenants[tenant->first] =
        projections::RenderTenant(tenant->first, tenant->second, state.position);
  }
  if (!tenant.empty() && tenants.empty()) {
    std::string message = "no events for tenant '" + tenant + "'";
    if (state.position < head) {
      // A tenant created later is told apart from one that never was, as over HTTP.
      eventstore::Filter later;
      later.tenant = tenant;
      auto found = (*store)->Query(later, 1);
      if (!found.ok()) return StorageFailure(found.status());
      message = found->events.empty() ? message + " up to position "
                                      : "tenant '" + tenant + "' did not exist yet as of position ";
      message += std::to_string(state.position);
      // A time names the last position recorded by then: say so, as the times the state
      // shows are the commands' occurred_at.
      if (const auto time = ParseTime(until); time && !server::ParseNonNegative(until)) {
        message += state.position == 0 ? ": no event was recorded by " : ", the last recorded by ";
        message += FormatTime(*time) + " (recorded_at, not occurred_at)";
      }
    }
    return Fail(kUsage, message);
  }
  PrintPretty(std::cout, json::object{{"position", state.position}, {"tenants", tenants}});
  return kDone;
}

}  // namespace custody::cli
