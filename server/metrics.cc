#include "server/metrics.h"

#include <charconv>

namespace custody::server {
namespace {

const std::vector<double> kLatencyBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,   0.25,   0.5,   1,    2.5,   5};

std::vector<double> BatchBounds() {
  std::vector<double> bounds;
  for (double b = 1; b <= 4096; b *= 2) bounds.push_back(b);
  return bounds;
}

// The shortest text that reads back as `value`: 0.0025, not 0.0025000000000000001.
std::string Number(double value) {
  char buffer[64];
  const auto written = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, written.ptr);
}

// Label values are route patterns and fixed words, but escape anyway as the format requires.
std::string Escape(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// The method as a label: any other token a client sends is "other", so that nobody can add
// series (and memory) to the metrics by making methods up.
std::string_view MethodLabel(std::string_view method) {
  // "-": refused before the request line was read (503, a malformed line).
  static constexpr std::string_view kMethods[] = {"GET",   "HEAD",    "POST",    "PUT",   "DELETE",
                                                  "PATCH", "OPTIONS", "CONNECT", "TRACE", "-"};
  for (const std::string_view known : kMethods) {
    if (method == known) return known;
  }
  return "other";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double value) {
  std::size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::Render(std::string& out, std::string_view name, std::string_view labels) const {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? Number(bounds_[i]) : "+Inf";
    out.append(name).append("_bucket{").append(labels).append("le=\"").append(le);
    out.append("\"} ").append(std::to_string(cumulative)).append("\n");
  }
  std::string_view bare = labels;
  if (!bare.empty()) bare.remove_suffix(1);  // the trailing comma
  const std::string braces = bare.empty() ? "" : "{" + std::string(bare) + "}";
  out.append(name).append("_sum").append(braces).append(" ").append(Number(sum_)).append("\n");
  out.append(name).append("_count").append(braces).append(" ");
  out.append(std::to_string(count_)).append("\n");
}

Metrics::Metrics() : batches_(BatchBounds()) {}

void Metrics::ObserveRequest(std::string_view route, std::string_view method, int status,
                             double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{std::string(route), std::string(MethodLabel(method)), status}];
  auto found = latency_.find(std::string(route));
  if (found == latency_.end()) {
    found = latency_.emplace(std::string(route), Histogram(kLatencyBounds)).first;
  }
  found->second.Observe(seconds);
}

void Metrics::CountCommand(std::string_view outcome) {
  std::lock_guard lock(mutex_);
  ++commands_[std::string(outcome)];
}

void Metrics::ObserveAppend(std::size_t events) {
  std::lock_guard lock(mutex_);
  events_appended_ += events;
  batches_.Observe(static_cast<double>(events));
}

std::string Metrics::Render(std::optional<std::int64_t> database_bytes,
                            std::int64_t head_position) const {
  std::string out;
  std::lock_guard lock(mutex_);
  Header(out, "custody_http_requests_total", "counter", "HTTP requests answered.");
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out.append("custody_http_requests_total{route=\"").append(Escape(route));
    out.append("\",method=\"").append(Escape(method)).append("\",status=\"");
    out.append(std::to_string(status)).append("\"} ").append(std::to_string(count));
    out.append("\n");
  }
  Header(out, "custody_http_request_duration_seconds", "histogram",
         "Time from a request read to its response written (streams: to their header).");
  for (const auto& [route, histogram] : latency_) {
    histogram.Render(out, "custody_http_request_duration_seconds",
                     "route=\"" + Escape(route) + "\",");
  }
  Header(out, "custody_commands_total", "counter", "Commands by outcome.");
  for (const auto& [outcome, count] : commands_) {
    out.append("custody_commands_total{outcome=\"").append(Escape(outcome)).append("\"} ");
    out.append(std::to_string(count)).append("\n");
  }
  Header(out, "custody_events_appended_total", "counter", "Events committed to the log.");
  out.append("custody_events_appended_total ").append(std::to_string(events_appended_));
  out.append("\n");
  Header(out, "custody_append_batch_events", "histogram", "Events per group commit.");
  batches_.Render(out, "custody_append_batch_events", "");
  Header(out, "custody_head_position", "gauge", "Position of the newest event in the log.");
  out.append("custody_head_position ").append(std::to_string(head_position)).append("\n");
  if (database_bytes) {
    Header(out, "custody_database_size_bytes", "gauge", "Database file and WAL size.");
    out.append("custody_database_size_bytes ").append(std::to_string(*database_bytes));
    out.append("\n");
  }
  Header(out, "custody_http_connections_open", "gauge", "Open HTTP connections.");
  out.append("custody_http_connections_open ").append(std::to_string(connections_.load()));
  out.append("\n");
  Header(out, "custody_live_streams_open", "gauge", "Open Server-Sent Events streams.");
  out.append("custody_live_streams_open ").append(std::to_string(streams_.load()));
  out.append("\n");
  return out;
}

}  // namespace custody::server
