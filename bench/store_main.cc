// custody_bench: the storage measurements, each in its own process so that peak memory is the
// measurement's own.
//
//   import   --db PATH --baseline-db PATH --events N --streams S --batch B [--peer-out FILE]
//   ceiling  --db PATH --seconds S
//   replay   --db PATH
//   scan     --db PATH
//   verify   --db PATH
//   report   --in RESULTS.jsonl --out RESULTS.json [--mode quick|full]
//
// Each prints result lines ({"bench": ...}) on standard output.

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

#include "bench/common.h"
#include "bench/history.h"
#include "bench/report.h"
#include "bench/sqlite_baseline.h"
#include "eventstore/event_store.h"
#include "projections/projections.h"

namespace custody::bench {
namespace {

void Remove(const std::string& path) {
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

double Rate(std::int64_t events, double seconds) { return seconds > 0 ? events / seconds : 0; }

// Writes stream, type and data of each event, tab-separated: the peer's input.
void WritePeerInput(const std::string& path, const std::vector<Event>& events) {
  std::ofstream out(path, std::ios::binary);
  for (const Event& e : events) out << e.stream << '\t' << e.type << '\t' << e.data << '\n';
}

int Import(const Args& args) {
  const std::string db = args.Get("db");
  const std::string baseline_db = args.Get("baseline-db");
  const std::int64_t count = args.Int("events", 50000);
  const int streams = static_cast<int>(args.Int("streams", 1000));
  const std::size_t batch = static_cast<std::size_t>(args.Int("batch", 20000));

  auto start = Clock::now();
  HistoryGenerator generator(streams);
  std::vector<Event> events = generator.Generate(count);
  const double generated = SecondsSince(start);
  std::int64_t data_bytes = 0;
  for (const Event& e : events) data_bytes += static_cast<std::int64_t>(e.data.size());
  Emit("history", {{"events", events.size()},
                   {"streams", generator.tenants() * kStreamsPerTenant},
                   {"tenants", generator.tenants()},
                   {"mean_data_bytes", double(data_bytes) / double(events.size())},
                   {"generate_seconds", generated}});
  if (args.Has("peer-out")) WritePeerInput(args.Get("peer-out"), events);

  Remove(baseline_db);
  const PlainResult plain = PlainBulkInsert(baseline_db, events, batch);
  if (!plain.ok) {
    std::cerr << "baseline bulk insert failed: " << plain.error << "\n";
    return 1;
  }
  Emit("bulk_plain", {{"events", plain.events},
                      {"batch", batch},
                      {"seconds", plain.seconds},
                      {"events_per_s", Rate(plain.events, plain.seconds)}});
  Remove(baseline_db);
  const std::pair<const char*, QueryIndexes> indexed_runs[] = {
      {"bulk_plain_indexed", QueryIndexes::kWhileInserting},
      {"bulk_plain_indexed_after", QueryIndexes::kBuiltAfter}};
  for (const auto& [name, query_indexes] : indexed_runs) {
    const PlainResult indexed = PlainBulkInsert(baseline_db, events, batch, query_indexes);
    if (indexed.ok) {
      Emit(name, {{"events", indexed.events},
                  {"batch", batch},
                  {"seconds", indexed.seconds},
                  {"events_per_s", Rate(indexed.events, indexed.seconds)}});
    } else {  // a comparison row left empty, the rest of the run still worth having
      std::cerr << name << " failed: " << indexed.error << "\n";
    }
    Remove(baseline_db);
  }

  Remove(db);
  auto store = eventstore::EventStore::Open(db);
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    return 1;
  }
  start = Clock::now();
  for (std::size_t i = 0; i < events.size(); i += batch) {
    // Moved, not copied: the plain programs read the rows in place, so a copy would be
    // custody's cost alone. `events` is not used after this.
    const std::vector<Event> part(
        std::make_move_iterator(events.begin() + i),
        std::make_move_iterator(events.begin() + std::min(events.size(), i + batch)));
    if (Status status = (*store)->Import(part); !status.ok()) {
      std::cerr << "import failed: " << status.ToString() << "\n";
      return 1;
    }
  }
  const double imported = SecondsSince(start);
  // Closing builds the query indexes an import into an empty log defers, and checkpoints the
  // WAL into the file: part of the import's cost, so the rate counts it.
  store->reset();
  const double closed = SecondsSince(start);
  Emit("bulk_custody", {{"events", events.size()},
                        {"batch", batch},
                        {"seconds_inserting", imported},
                        {"seconds", closed},
                        {"events_per_s", Rate(static_cast<std::int64_t>(events.size()), closed)},
                        {"db_bytes", std::filesystem::file_size(db)}});
  return 0;
}

int Ceiling(const Args& args) {
  const std::string db = args.Get("db");
  HistoryGenerator generator(1000);
  const std::vector<Event> sample = generator.Generate(2000);
  Remove(db);
  PlainResult result = PlainCommitCeiling(db, sample, args.Real("seconds", 3));
  Remove(db);
  if (!result.ok) {
    std::cerr << "ceiling failed: " << result.error << "\n";
    return 1;
  }
  Emit("ceiling_plain", {{"commits", result.events},
                         {"seconds", result.seconds},
                         {"commits_per_s", Rate(result.events, result.seconds)},
                         {"p50_ms", Quantile(result.latencies_ms, 0.5)},
                         {"p99_ms", Quantile(result.latencies_ms, 0.99)}});
  return 0;
}

int Replay(const Args& args) {
  auto store = eventstore::EventStore::OpenReadOnly(args.Get("db"));
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    return 1;
  }
  const auto start = Clock::now();
  auto state = projections::Rebuild(**store, "", std::nullopt);
  const double seconds = SecondsSince(start);
  if (!state.ok()) {
    std::cerr << "replay failed: " << state.status().ToString() << "\n";
    return 1;
  }
  Emit("replay_custody", {{"events", state->position},
                          {"tenants", state->tenants.size()},
                          {"seconds", seconds},
                          {"events_per_s", Rate(state->position, seconds)},
                          {"peak_rss_mib", PeakRssMib()}});
  return 0;
}

int Scan(const Args& args) {
  const PlainResult result = PlainScan(args.Get("db"));
  if (!result.ok) {
    std::cerr << "scan failed: " << result.error << "\n";
    return 1;
  }
  Emit("scan_plain", {{"events", result.events},
                      {"seconds", result.seconds},
                      {"events_per_s", Rate(result.events, result.seconds)}});
  return 0;
}

int Verify(const Args& args) {
  auto store = eventstore::EventStore::OpenReadOnly(args.Get("db"));
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    return 1;
  }
  const auto start = Clock::now();
  auto report = (*store)->Verify();
  const double seconds = SecondsSince(start);
  if (!report.ok() || !report->ok) {
    std::cerr << "verify failed: " << (report.ok() ? report->problem : report.status().ToString())
              << "\n";
    return 1;
  }
  Emit("verify_custody", {{"events", report->events},
                          {"seconds", seconds},
                          {"events_per_s", Rate(report->events, seconds)},
                          {"peak_rss_mib", PeakRssMib()}});
  return 0;
}

}  // namespace
}  // namespace custody::bench

int main(int argc, char** argv) {
  using namespace custody::bench;
  return RunSubcommand("custody_bench", argc, argv,
                       {{"import", Import},
                        {"ceiling", Ceiling},
                        {"replay", Replay},
                        {"scan", Scan},
                        {"verify", Verify},
                        {"report", Report}});
}
