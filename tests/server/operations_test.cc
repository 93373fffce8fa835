// Running the server: metrics, connection limits, timeouts and a graceful stop.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "tests/server/fixture.h"

namespace custody::servertest {
namespace {

// The value of one sample line of the exposition ("name{labels}" exactly); -1 when absent.
double Sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

class Operations : public ServerTest {
 protected:
  std::string Metrics() {
    const HttpResponse answer = Get("/metrics", "");
    EXPECT_EQ(answer.status, 200);
    EXPECT_EQ(answer.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    return answer.body;
  }
  // The exposition once `series` reads `value`, or after 5 s: a request is counted once its
  // answer is written, which its client may see a moment before the count moves.
  std::string MetricsOnce(const std::string& series, double value) {
    std::string exposition = Metrics();
    for (int i = 0; i < 100 && Sample(exposition, series) != value; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      exposition = Metrics();
    }
    return exposition;
  }
};

TEST_F(Operations, AHeaderLimitTheHttpLibraryCannotHoldIsRefusedAtStart) {
  for (const std::size_t limit : {server::kMaxHeaderLimit + 1, server::kMinHeaderLimit - 1}) {
    server::ServerOptions options;
    options.port = 0;
    options.header_limit = limit;
    EXPECT_EQ(server::Server::Start(*app_, options).status().code(), Status::Code::kInvalidArgument)
        << limit;
  }
}

TEST_F(Operations, MetricsMoveWithRequestsCommandsAndAppends) {
  const std::string health =
      "custody_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}";
  const std::string before = Metrics();
  const double health_before = std::max(0.0, Sample(before, health));
  SeedAcme();
  Get("/healthz", "");
  Get("/healthz", "");
  ASSERT_EQ(Act("disconnect_marketo", "bob").status, 409);  // bob never connected
  ASSERT_EQ(Send(port_, "DELETE", "/v1/tenants/acme/marketo", Auth(operator_)).status, 405);
  const std::string after = MetricsOnce(
      "custody_http_requests_total{route=\"/v1/tenants/{tenant}/marketo\",method=\"DELETE\","
      "status=\"405\"}",
      1);
  // A known path asked with another method counts under its pattern, not as unmatched.
  EXPECT_EQ(Sample(after,
                   "custody_http_requests_total{route=\"/v1/tenants/{tenant}/marketo\","
                   "method=\"DELETE\",status=\"405\"}"),
            1);
  // Bucket bounds as written, not as binary floating point spells them out.
  EXPECT_NE(after.find("le=\"0.0025\"}"), std::string::npos);
  EXPECT_EQ(after.find("0.0025000"), std::string::npos);
  EXPECT_EQ(Sample(after, health), health_before + 2);
  EXPECT_EQ(Sample(after, "custody_commands_total{outcome=\"rejected\"}"), 1);
  EXPECT_EQ(Sample(after, "custody_commands_total{outcome=\"recorded\"}"), 3);
  EXPECT_EQ(Sample(after, "custody_events_appended_total"), Head());
  EXPECT_GE(Sample(after, "custody_append_batch_events_count"), 4);
  EXPECT_EQ(Sample(after,
                   "custody_http_requests_total{route=\"/v1/tenants/{tenant}/commands\","
                   "method=\"POST\",status=\"201\"}"),
            2);
  EXPECT_GE(Sample(after,
                   "custody_http_request_duration_seconds_count{route=\"/v1/tenants/{tenant}/"
                   "commands\"}"),
            3);
  EXPECT_GT(Sample(after, "custody_database_size_bytes"), 0);
  EXPECT_GE(Sample(after, "custody_http_connections_open"), 1);
  EXPECT_NE(after.find("# TYPE custody_http_request_duration_seconds histogram"),
            std::string::npos);
}

TEST(UrlAuthority, PutsAnIpv6AddressInBrackets) {
  EXPECT_EQ(server::UrlAuthority("127.0.0.1", 8080), "127.0.0.1:8080");
  EXPECT_EQ(server::UrlAuthority("localhost", 1), "localhost:1");
  EXPECT_EQ(server::UrlAuthority("::1", 46271), "[::1]:46271");
}

TEST_F(Operations, MadeUpMethodsShareOneMetricsSeries) {
  for (const char* method : {"FROB", "XYZZY", "get"}) {
    ASSERT_EQ(Send(port_, method, "/healthz").status, 405) << method;
  }
  const std::string other =
      "custody_http_requests_total{route=\"/healthz\",method=\"other\",status=\"405\"}";
  const std::string after = MetricsOnce(other, 3);
  EXPECT_EQ(Sample(after, other), 3);
  for (const char* method : {"FROB", "XYZZY", "get"}) {
    EXPECT_EQ(after.find(std::string("method=\"") + method + "\""), std::string::npos) << method;
  }
  // Refused before its method was read: "-"; a 505's line was read, method included.
  auto count_of = [&](const std::string& request, int status, const std::string& method) {
    Connection connection(port_);
    EXPECT_TRUE(connection.WriteRaw(request));
    EXPECT_EQ(connection.Read().status, status) << request;
    const std::string series = "custody_http_requests_total{route=\"unmatched\",method=\"" +
                               method + "\",status=\"" + std::to_string(status) + "\"}";
    return Sample(MetricsOnce(series, 1), series);
  };
  EXPECT_EQ(count_of("GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505, "GET"), 1);
  EXPECT_EQ(count_of("\x01\x02 nonsense\r\n\r\n", 400, "-"), 1);
}

TEST_F(Operations, ConnectionsBeyondTheCapAreRefusedWith503) {
  StopServer();
  server::ServerOptions options;
  options.max_connections = 1;
  StartServer(options);
  Connection first(port_);
  ASSERT_EQ(first.Request("GET", "/healthz").status, 200);
  const HttpResponse refused = Send(port_, "GET", "/healthz");
  EXPECT_EQ(refused.status, 503);
  EXPECT_EQ(refused.Code(), "too_many_connections");
  EXPECT_EQ(first.Request("GET", "/healthz").status, 200);
}

TEST_F(Operations, IdleKeepAliveConnectionsAreClosed) {
  StopServer();
  server::ServerOptions options;
  options.idle_timeout = std::chrono::seconds(1);
  StartServer(options);
  Connection connection(port_);
  ASSERT_EQ(connection.Request("GET", "/healthz").status, 200);
  EXPECT_TRUE(connection.ClosedByPeer(std::chrono::seconds(5)));
}

TEST_F(Operations, ARequestNotSentInTimeIsDropped) {
  StopServer();
  server::ServerOptions options;
  options.read_timeout = std::chrono::seconds(1);
  StartServer(options);
  Connection connection(port_);
  ASSERT_TRUE(connection.WriteRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n"));  // never ends
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(connection.ClosedByPeer(std::chrono::seconds(5)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
}

TEST_F(Operations, StopEndsLiveTails) {
  SseClient live(port_, "/v1/events/live", reviewer_all_);
  ASSERT_EQ(live.status(), 200);
  const auto started = std::chrono::steady_clock::now();
  StopServer();
  EXPECT_TRUE(live.Ended(std::chrono::seconds(2)));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
}

TEST_F(Operations, ALiveTailWhoseClientLeftIsClosedBeforeItsNextWrite) {
  const auto open_tails = [this] { return Sample(Metrics(), "custody_live_streams_open"); };
  {
    SseClient live(port_, "/v1/events/live", reviewer_);
    ASSERT_EQ(live.status(), 200);
    ASSERT_EQ(open_tails(), 1);
  }  // the client goes away; nothing is appended, and the keep-alive comment is 15 s off
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (open_tails() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(open_tails(), 0);
}

TEST_F(Operations, StopFinishesRequestsInFlightAndEveryAcknowledgedCommandIsKept) {
  SeedAcme();
  std::mutex mutex;
  std::vector<std::pair<std::string, std::int64_t>> acknowledged;  // member, position
  std::atomic<int> answered{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 200; ++i) {
        const std::string member = "m" + std::to_string(c) + "x" + std::to_string(i);
        const HttpResponse answer = Invite("acme", "alice", member, "user");
        if (answer.status == 0) return;  // the server is gone
        ++answered;
        if (answer.status != 201) continue;
        std::lock_guard lock(mutex);
        acknowledged.emplace_back(member, answer.Json().at("position").to_number<std::int64_t>());
      }
    });
  }
  while (answered < 30) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  StopServer();
  for (std::thread& client : clients) client.join();
  ASSERT_FALSE(acknowledged.empty());

  app_.reset();
  OpenApp();
  for (const auto& [member, position] : acknowledged) {
    eventstore::Filter filter;
    filter.subject = member;
    auto page = app_->store->Query(filter, 10);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->events.size(), 1u) << member;
    EXPECT_EQ(page->events[0].position, position);
  }
}

}  // namespace
}  // namespace custody::servertest
