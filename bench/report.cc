#include "bench/report.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace custody::bench {
namespace {

namespace json = boost::json;

// The results of a run, looked up by bench name and an optional selector field.
class Results {
 public:
  explicit Results(json::array lines) : lines_(std::move(lines)) {}

  const json::object* Find(std::string_view bench, std::string_view key = {},
                           const json::value& equals = nullptr) const {
    for (const auto& line : lines_) {
      const json::object& object = line.as_object();
      if (object.at("bench").as_string() != bench) continue;
      if (!key.empty() && (!object.contains(key) || object.at(key) != equals)) continue;
      return &object;
    }
    return nullptr;
  }
  static std::optional<double> Number(const json::object* object, std::string_view field) {
    if (object == nullptr || !object->contains(field)) return std::nullopt;
    const json::value& value = object->at(field);
    if (value.is_double()) return value.as_double();
    if (value.is_int64()) return double(value.as_int64());
    if (value.is_uint64()) return double(value.as_uint64());
    return std::nullopt;
  }
  const json::array& lines() const { return lines_; }

 private:
  json::array lines_;
};

std::string Fixed(std::optional<double> value, int decimals = 0) {
  if (!value) return "-";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, *value);
  return buffer;
}

std::optional<double> Ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b == 0) return std::nullopt;
  return *a / *b;
}

struct Row {
  std::string measure, custody, baseline, ratio, goal, verdict;
};

class Table {
 public:
  void Add(Row row) { rows_.push_back(std::move(row)); }
  // "met" / "MISSED" / "" for a goal that depends on `ok` (nullopt: not measured).
  static std::string Verdict(std::optional<bool> ok) {
    if (!ok) return "";
    return *ok ? "met" : "MISSED";
  }
  void Print(std::ostream& out) const {
    const Row header{"measurement", "custody", "baseline", "ratio", "goal", ""};
    std::vector<std::size_t> width(6, 0);
    auto fields = [](const Row& r) {
      return std::vector<std::string>{r.measure, r.custody, r.baseline, r.ratio, r.goal, r.verdict};
    };
    for (const Row& r : rows_) {
      const auto f = fields(r);
      for (std::size_t i = 0; i < 6; ++i) width[i] = std::max(width[i], f[i].size());
    }
    for (std::size_t i = 0; i < 6; ++i) width[i] = std::max(width[i], fields(header)[i].size());
    auto line = [&](const Row& r) {
      const auto f = fields(r);
      out << "| ";
      for (std::size_t i = 0; i < 6; ++i) {
        out << f[i] << std::string(width[i] - f[i].size(), ' ') << (i < 5 ? " | " : " |\n");
      }
    };
    line(header);
    out << "|";
    for (std::size_t i = 0; i < 6; ++i) out << std::string(width[i] + 2, '-') << "|";
    out << "\n";
    for (const Row& r : rows_) line(r);
  }
  json::array ToJson() const {
    json::array rows;
    for (const Row& r : rows_) {
      rows.push_back(json::object{{"measurement", r.measure},
                                  {"custody", r.custody},
                                  {"baseline", r.baseline},
                                  {"ratio", r.ratio},
                                  {"goal", r.goal},
                                  {"verdict", r.verdict}});
    }
    return rows;
  }

 private:
  std::vector<Row> rows_;
};

void HttpRows(const Results& r, Table& table) {
  const auto ceiling = Results::Number(r.Find("ceiling_plain"), "commits_per_s");
  for (int connections : {1, 8, 64}) {
    const json::object* run = r.Find("http_commands", "connections", connections);
    const auto rate = Results::Number(run, "per_s");
    const auto ratio = Ratio(rate, ceiling);
    const auto p99 = Results::Number(run, "p99_ms");
    std::optional<bool> ok;
    std::string goal;
    if (connections == 64) {
      goal = ">= 15000/s, >= 2x, p99 <= 10 ms";
      if (rate && ratio && p99) ok = *rate >= 15000 && *ratio >= 2 && *p99 <= 10;
    }
    table.Add({"commands over HTTP, " + std::to_string(connections) + " conn (cmd/s)", Fixed(rate),
               Fixed(ceiling) + " (1 commit/event)", Fixed(ratio, 2) + "x", goal,
               Table::Verdict(ok)});
    table.Add({"  latency p50 / p99 / p99.9 (ms)",
               Fixed(Results::Number(run, "p50_ms"), 2) + " / " + Fixed(p99, 2) + " / " +
                   Fixed(Results::Number(run, "p999_ms"), 2),
               "", "", "", ""});
  }
}

void StorageRows(const Results& r, Table& table) {
  const auto bulk = Results::Number(r.Find("bulk_custody"), "events_per_s");
  const auto plain = Results::Number(r.Find("bulk_plain"), "events_per_s");
  const auto bulk_ratio = Ratio(bulk, plain);
  table.Add({"bulk append / import (events/s)", Fixed(bulk), Fixed(plain) + " (plain SQLite)",
             Fixed(bulk_ratio, 2) + "x", ">= 0.7x",
             Table::Verdict(bulk_ratio ? std::optional<bool>(*bulk_ratio >= 0.7) : std::nullopt)});
  const auto indexed = Results::Number(r.Find("bulk_plain_indexed"), "events_per_s");
  table.Add({"  plain SQLite with custody's 5 query indexes", Fixed(bulk),
             Fixed(indexed) + " (plain + indexes)", Fixed(Ratio(bulk, indexed), 2) + "x", "", ""});
  const auto indexed_after = Results::Number(r.Find("bulk_plain_indexed_after"), "events_per_s");
  table.Add({"  the same, indexes built at the end", Fixed(bulk),
             Fixed(indexed_after) + " (plain, then indexes)",
             Fixed(Ratio(bulk, indexed_after), 2) + "x", "", ""});
  const auto scan = Results::Number(r.Find("scan_plain"), "events_per_s");
  const auto replay = Results::Number(r.Find("replay_custody"), "events_per_s");
  table.Add({"replay, every projection (events/s)", Fixed(replay), Fixed(scan) + " (plain scan)",
             Fixed(Ratio(replay, scan), 2) + "x", ">= 1500000/s",
             Table::Verdict(replay ? std::optional<bool>(*replay >= 1.5e6) : std::nullopt)});
  const auto verify = Results::Number(r.Find("verify_custody"), "events_per_s");
  table.Add({"verify (events/s)", Fixed(verify), Fixed(scan) + " (plain scan)",
             Fixed(Ratio(verify, scan), 2) + "x", ">= 2000000/s",
             Table::Verdict(verify ? std::optional<bool>(*verify >= 2e6) : std::nullopt)});
}

void QueryRows(const Results& r, Table& table) {
  const std::pair<const char*, double> kinds[] = {{"owner", 1},
                                                  {"removal_check", 1},
                                                  {"onboarding_member", 0},
                                                  {"history_page_by_actor", 5},
                                                  {"owner_at_middle", 0},
                                                  {"owner_at_middle_first", 0}};
  for (const auto& [kind, goal] : kinds) {
    const json::object* run = r.Find("http_query", "query", kind);
    const auto p99 = Results::Number(run, "p99_ms");
    table.Add({std::string("query ") + kind + " p50 / p99 (ms)",
               Fixed(Results::Number(run, "p50_ms"), 3) + " / " + Fixed(p99, 3), "", "",
               goal > 0 ? "p99 <= " + Fixed(goal) + " ms" : "",
               goal > 0 && p99 ? Table::Verdict(*p99 <= goal) : ""});
  }
}

void RestartRows(const Results& r, Table& table) {
  for (const char* label : {"clean", "unclean", "no_snapshot"}) {
    const auto ms = Results::Number(r.Find("first_answer", "label", label), "ms");
    const bool goal = std::string_view(label) != "no_snapshot";
    table.Add({std::string("restart to first answer, ") + label + " (ms)", Fixed(ms), "", "",
               goal ? "<= 1000 ms" : "", goal && ms ? Table::Verdict(*ms <= 1000) : ""});
  }
}

void PeerRows(const Results& r, Table& table) {
  const json::object* skipped = r.Find("emmett_skipped");
  if (skipped != nullptr) {
    table.Add({"Emmett (SQLite) peer", "skipped", std::string(skipped->at("reason").as_string()),
               "", "", ""});
    return;
  }
  const auto bulk = Results::Number(r.Find("bulk_custody"), "events_per_s");
  const auto batched = Results::Number(r.Find("emmett_batched"), "events_per_s");
  table.Add({"vs Emmett: batched append (events/s)", Fixed(bulk), Fixed(batched) + " (Emmett)",
             Fixed(Ratio(bulk, batched), 2) + "x", "", ""});
  const auto one = Results::Number(r.Find("http_commands", "connections", 1), "per_s");
  const auto single = Results::Number(r.Find("emmett_single"), "events_per_s");
  table.Add({"vs Emmett: single-event appends, 1 client (/s)", Fixed(one) + " (HTTP)",
             Fixed(single) + " (Emmett, in-process)", Fixed(Ratio(one, single), 2) + "x", "", ""});
  const auto replay = Results::Number(r.Find("replay_custody"), "events_per_s");
  const auto read_all = Results::Number(r.Find("emmett_read_all"), "events_per_s");
  table.Add({"vs Emmett: replay / read all (events/s)", Fixed(replay),
             Fixed(read_all) + " (Emmett)", Fixed(Ratio(replay, read_all), 2) + "x", "", ""});
}

void MemoryRows(const Results& r, Table& table) {
  table.Add({"peak RSS: server under load (MiB)",
             Fixed(Results::Number(r.Find("server_memory", "phase", "load"), "vmhwm_mib")), "", "",
             "", ""});
  table.Add({"peak RSS: server after the queries (MiB)",
             Fixed(Results::Number(r.Find("server_memory", "phase", "queries"), "vmhwm_mib")), "",
             "", "", ""});
  table.Add({"peak RSS: replay (MiB)",
             Fixed(Results::Number(r.Find("replay_custody"), "peak_rss_mib")), "", "", "", ""});
  table.Add({"peak RSS: verify (MiB)",
             Fixed(Results::Number(r.Find("verify_custody"), "peak_rss_mib")), "", "", "", ""});
}

}  // namespace

int Report(const Args& args) {
  std::ifstream in(args.Get("in"));
  if (!in) {
    std::cerr << "report: cannot read " << args.Get("in") << "\n";
    return 1;
  }
  json::array lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line.front() != '{') continue;
    boost::system::error_code error;
    json::value value = json::parse(line, error);
    if (!error && value.is_object() && value.as_object().contains("bench")) {
      lines.push_back(std::move(value));
    }
  }
  const Results results(std::move(lines));
  Table table;
  HttpRows(results, table);
  StorageRows(results, table);
  QueryRows(results, table);
  RestartRows(results, table);
  PeerRows(results, table);
  MemoryRows(results, table);
  table.Print(std::cout);

  json::object document{
      {"mode", args.Get("mode", "full")}, {"table", table.ToJson()}, {"results", results.lines()}};
  for (const char* field : {"machine", "cpu", "cores", "disk", "sqlite", "date", "commit"}) {
    if (args.Has(field)) document[field] = args.Get(field);
  }
  if (args.Has("out")) {
    std::ofstream out(args.Get("out"));
    out << json::serialize(document) << "\n";
  }
  return 0;
}

}  // namespace custody::bench
