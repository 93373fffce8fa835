#pragma once

// Counters, gauges and histograms for GET /metrics, in the Prometheus text format 0.0.4.
// Thread-safe: requests are counted on I/O threads, appends on the event store's writer.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace custody::server {

// A cumulative histogram with fixed upper bounds.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);
  // Appends the _bucket, _sum and _count lines of `name` with `labels` ("" or `a="b",`).
  void Render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class Metrics {
 public:
  Metrics();

  // One answered request: its route pattern, method and status, and how long it took.
  void ObserveRequest(std::string_view route, std::string_view method, int status, double seconds);
  // One command's outcome: recorded, duplicate, rejected, conflict, not_found, invalid, error.
  void CountCommand(std::string_view outcome);
  // One group commit of the event store with `events` events.
  void ObserveAppend(std::size_t events);
  void ConnectionOpened() { ++connections_; }
  void ConnectionClosed() { --connections_; }
  void StreamOpened() { ++streams_; }
  void StreamClosed() { --streams_; }
  std::int64_t connections() const { return connections_; }

  // The whole exposition; gauges read at scrape time are passed in.
  std::string Render(std::optional<std::int64_t> database_bytes, std::int64_t head_position) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;  // by route
  std::map<std::string, std::uint64_t> commands_;
  std::uint64_t events_appended_ = 0;
  Histogram batches_;
  std::atomic<std::int64_t> connections_{0};
  std::atomic<std::int64_t> streams_{0};
};

}  // namespace custody::server
