// Clients that misbehave on purpose: slow headers and bodies are cut at the read deadline
// without holding up anyone else, idle connections past the cap are refused cleanly, and
// oversized headers and bodies are refused before anything is read into memory or stored.

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/hardening/raw_socket.h"
#include "tests/server/fixture.h"

namespace custody::hardening {
namespace {

using namespace std::chrono_literals;
using servertest::HttpResponse;
using Clock = std::chrono::steady_clock;

class HostileClients : public servertest::ServerTest {
 protected:
  // Restarts the server with a short read deadline.
  void StartWithShortDeadline(std::chrono::seconds deadline = std::chrono::seconds(1)) {
    StopServer();
    server::ServerOptions options;
    options.read_timeout = deadline;
    StartServer(options);
  }

  // A command's request line and headers, up to the body's framing headers.
  std::string CommandHead() const {
    return "POST /v1/tenants/acme/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
           writer_ + "\r\nContent-Type: application/json\r\n";
  }

  // Sends `bytes` one at a time every `pause` until the server closes the connection or
  // `limit` passes; returns how long the server took to close it (limit when it did not).
  static Clock::duration Trickle(RawSocket& socket, const std::string& bytes, Clock::duration pause,
                                 Clock::duration limit) {
    const auto started = Clock::now();
    std::size_t at = 0;
    while (Clock::now() - started < limit) {
      if (at < bytes.size() && !socket.Send(std::string(1, bytes[at++]))) break;
      if (socket.ClosedWithin(std::chrono::duration_cast<std::chrono::milliseconds>(pause))) break;
    }
    return Clock::now() - started;
  }

  // Healthy clients meanwhile: every answer must come well before the slow clients' deadline
  // (2 s), with room for a loaded machine running sanitized builds.
  void ExpectPromptAnswers(int requests) {
    for (int i = 0; i < requests; ++i) {
      const auto started = Clock::now();
      const HttpResponse answer = Get("/v1/tenants/acme/marketo", reviewer_);
      EXPECT_EQ(answer.status, 200) << answer.body << answer.error;
      EXPECT_LT(Clock::now() - started, 1s) << "request " << i;
      std::this_thread::sleep_for(20ms);
    }
  }
};

TEST_F(HostileClients, ASlowHeaderIsCutAtTheDeadlineWhileOthersAreServed) {
  SeedAcme();
  StartWithShortDeadline(std::chrono::seconds(2));
  RawSocket slow(port_);
  ASSERT_TRUE(slow.connected());
  Clock::duration took{};
  std::thread slowloris([&] {
    // A header that never ends: one byte every 50 ms would take 10 s.
    took = Trickle(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n" + std::string(200, 'X'), 50ms, 8s);
  });
  ExpectPromptAnswers(20);
  slowloris.join();
  EXPECT_GE(took, 1900ms);
  EXPECT_LT(took, 3500ms) << "the read deadline covers the whole header, not each byte";
}

TEST_F(HostileClients, ASlowBodyIsCutAtTheDeadline) {
  SeedAcme();
  StartWithShortDeadline();
  RawSocket slow(port_);
  ASSERT_TRUE(slow.Send(CommandHead() + "Content-Length: 400\r\n\r\n"));
  const Clock::duration took = Trickle(slow, std::string(400, ' '), 50ms, 6s);
  EXPECT_LT(took, 2500ms);
  EXPECT_EQ(Head(), 4);
}

// Regression: writing "100 Continue" replaced the read deadline with the 30 s write deadline,
// so a body sent slowly after it had all that time.
TEST_F(HostileClients, ASlowBodyAfter100ContinueIsCutAtTheReadDeadlineToo) {
  SeedAcme();
  StartWithShortDeadline();
  RawSocket slow(port_);
  ASSERT_TRUE(slow.Send(CommandHead() + "Expect: 100-continue\r\nContent-Length: 400\r\n\r\n"));
  const auto started = Clock::now();
  // The 100 Continue arrives; then the body trickles.
  bool closed = false;
  const std::string interim = slow.ReadUntilClosed(300ms, &closed);
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue", 0), 0u) << interim;
  ASSERT_FALSE(closed);
  Trickle(slow, std::string(400, ' '), 50ms, 6s);
  EXPECT_LT(Clock::now() - started, 2500ms);
}

TEST_F(HostileClients, ManySlowClientsDoNotStarveTheOthers) {
  SeedAcme();
  StartWithShortDeadline(std::chrono::seconds(2));
  std::vector<std::unique_ptr<RawSocket>> slow;
  for (int i = 0; i < 64; ++i) {
    slow.push_back(std::make_unique<RawSocket>(port_));
    ASSERT_TRUE(slow.back()->Send("GET /healthz HTTP/1.1\r\n"));
  }
  ExpectPromptAnswers(10);
  // All of them are gone at their deadline.
  for (auto& socket : slow) EXPECT_TRUE(socket->ClosedWithin(3500ms));
}

TEST_F(HostileClients, IdleConnectionsHitTheCapAndTheNextIsRefusedCleanly) {
  StopServer();
  server::ServerOptions options;
  options.max_connections = 8;
  StartServer(options);
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<RawSocket>(port_));
    ASSERT_TRUE(idle.back()->connected());
  }
  std::this_thread::sleep_for(100ms);  // accepted and counted
  RawSocket refused(port_);
  bool closed = false;
  const std::string answer = refused.ReadUntilClosed(3s, &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_NE(answer.find("application/problem+json"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"code\":\"too_many_connections\""), std::string::npos) << answer;

  // A slot freed is a slot the next client gets.
  idle.pop_back();
  idle.pop_back();
  HttpResponse served;
  for (int attempt = 0; attempt < 50 && served.status != 200; ++attempt) {
    std::this_thread::sleep_for(20ms);
    served = servertest::Send(port_, "GET", "/healthz");
  }
  EXPECT_EQ(served.status, 200);
}

TEST_F(HostileClients, OversizedHeadersAndBodiesAreRefusedAndStoreNothing) {
  SeedAcme();
  const std::int64_t head = Head();
  const std::string command = CommandHead();
  struct Case {
    const char* name;
    std::string request;
    const char* status_line;
    const char* code;
    const char* instance;  // the path asked for, whenever the request line was read
  };
  std::string many_fields;
  for (int i = 0; i < 2000; ++i) many_fields += "X-F" + std::to_string(i) + ": value\r\n";
  const std::string big = std::string(70 * 1024, 'a');
  char chunk_size[16];
  std::snprintf(chunk_size, sizeof chunk_size, "%zx\r\n", big.size());
  const Case cases[] = {
      {"many header fields", "GET /healthz HTTP/1.1\r\nHost: x\r\n" + many_fields + "\r\n",
       "HTTP/1.1 431", "headers_too_large", "/healthz"},
      {"one huge header", "GET /healthz HTTP/1.1\r\nX-Big: " + std::string(40000, 'b') + "\r\n\r\n",
       "HTTP/1.1 431", "headers_too_large", "/healthz"},
      {"declared length over the limit", command + "Content-Length: 1000000000000\r\n\r\n",
       "HTTP/1.1 413", "body_too_large", "/v1/tenants/acme/commands"},
      {"chunked body over the limit",
       command + "Transfer-Encoding: chunked\r\n\r\n" + chunk_size + big + "\r\n0\r\n\r\n",
       "HTTP/1.1 413", "body_too_large", "/v1/tenants/acme/commands"},
      {"length that overflows", command + "Content-Length: 99999999999999999999999\r\n\r\n",
       "HTTP/1.1 400", "invalid_request", "/v1/tenants/acme/commands"},
      {"two lengths", command + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", "HTTP/1.1 400",
       "invalid_request", "/v1/tenants/acme/commands"},
  };
  for (const Case& bad : cases) {
    RawSocket socket(port_);
    socket.Send(bad.request);  // the server may close before reading it all
    bool closed = false;
    const std::string answer = socket.ReadUntilClosed(5s, &closed);
    EXPECT_EQ(answer.rfind(bad.status_line, 0), 0u) << bad.name << ": " << answer.substr(0, 200);
    EXPECT_NE(answer.find(std::string("\"code\":\"") + bad.code + "\""), std::string::npos)
        << bad.name << ": " << answer.substr(0, 400);
    EXPECT_NE(answer.find(std::string("\"instance\":\"") + bad.instance + "\""), std::string::npos)
        << bad.name << ": " << answer.substr(0, 400);
    EXPECT_TRUE(closed) << bad.name;
  }
  EXPECT_EQ(Head(), head);
}

// Regression: "Transfer-Encoding: chunked, gzip" gave a request without a body, and its body was
// then read as the next request on the connection (request smuggling behind a proxy).
TEST_F(HostileClients, BodiesWhoseLengthCannotBeKnownAreRefused) {
  SeedAcme();
  const std::int64_t head = Head();
  const std::string post = CommandHead();
  const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string cases[] = {
      post + "Transfer-Encoding: chunked, gzip\r\n\r\n" + smuggled,
      post + "Transfer-Encoding: gzip\r\n\r\n" + smuggled,
      post + "Transfer-Encoding: identity\r\n\r\n" + smuggled,
      post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled,
      post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled,
  };
  for (const std::string& request : cases) {
    RawSocket socket(port_);
    ASSERT_TRUE(socket.Send(request));
    bool closed = false;
    const std::string answer = socket.ReadUntilClosed(5s, &closed);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << request << "\n" << answer;
    EXPECT_NE(answer.find("\"code\":\"invalid_request\""), std::string::npos) << answer;
    EXPECT_EQ(answer.find("HTTP/1.1 200"), std::string::npos) << "smuggled: " << answer;
    EXPECT_TRUE(closed);
  }
  // Chunked alone is fine.
  const std::string body = R"({"command":"connect_marketo","actor":"alice"})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", body.size());
  RawSocket chunked(port_);
  ASSERT_TRUE(chunked.Send(post + "Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n" + size +
                           "\r\n" + body + "\r\n0\r\n\r\n"));
  bool closed = false;
  const std::string answer = chunked.ReadUntilClosed(5s, &closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 201", 0), 0u) << answer;
  EXPECT_EQ(Head(), head + 1);
}

}  // namespace
}  // namespace custody::hardening
