// The limits of `custody serve` are flags: a real server started with small ones applies them.

#include <sys/wait.h>

#include <chrono>

#include <gtest/gtest.h>

#include "server/app.h"
#include "tests/hardening/raw_socket.h"
#include "tests/hardening/server_process.h"
#include "tests/support/temp_dir.h"

namespace custody::hardening {
namespace {

using namespace std::chrono_literals;

TEST(ServeFlags, HeaderLimitAndReadTimeoutApply) {
  testing::TempDir dir;
  ServerProcess server(CUSTODY_BINARY, dir.File("custody.db"), dir.File("serve.log"),
                       {"--header-limit", "1024", "--read-timeout", "1", "--idle-timeout", "1"});
  ASSERT_NE(server.port(), 0) << server.Log();

  RawSocket big(server.port());
  ASSERT_TRUE(big.Send("GET /healthz HTTP/1.1\r\nX-Big: " + std::string(2000, 'b') + "\r\n\r\n"));
  bool closed = false;
  const std::string answer = big.ReadUntilClosed(5s, &closed);
  EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer;

  RawSocket slow(server.port());
  ASSERT_TRUE(slow.Send("GET /healthz HTTP/1.1\r\n"));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.ClosedWithin(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2500ms);

  RawSocket idle(server.port());
  EXPECT_TRUE(idle.ClosedWithin(5s)) << "idle connections close after --idle-timeout";
  const int status = server.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << server.Log();
}

TEST(ServeFlags, TheLogGoesToStandardErrorAndTheAddressToStandardOutput) {
  testing::TempDir dir;
  ServerProcess server(CUSTODY_BINARY, dir.File("custody.db"), dir.File("out.log"), {},
                       dir.File("err.log"));
  ASSERT_NE(server.port(), 0) << server.ErrorLog();
  RawSocket client(server.port());
  ASSERT_TRUE(client.Send("GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  bool closed = false;
  EXPECT_EQ(client.ReadUntilClosed(5s, &closed).rfind("HTTP/1.1 404", 0), 0u);
  const int status = server.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << server.ErrorLog();

  const std::string out = server.Log();
  const std::string err = server.ErrorLog();
  EXPECT_NE(out.find("custody is listening on http://127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("custody stopped cleanly."), std::string::npos) << out;
  EXPECT_EQ(out.find("/nowhere"), std::string::npos) << out;
  EXPECT_NE(err.find("GET /nowhere 404"), std::string::npos) << err;
  EXPECT_EQ(err.find("custody is listening"), std::string::npos) << err;
}

TEST(ServeFlags, ALimitOrTimeoutOutOfRangeIsAUsageError) {
  // A header limit over 60,000 bytes would let one field reach the 64 KiB the HTTP library
  // cannot hold.
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--read-timeout", "0"},
        std::vector<std::string>{"--header-limit", "70000"},
        std::vector<std::string>{"--header-limit", "100"},
        // Read as a size, "-5" once wrapped around to no body limit at all.
        std::vector<std::string>{"--body-limit", "-5"},
        std::vector<std::string>{"--body-limit", "0"},
        std::vector<std::string>{"--body-limit", "16777217"},
        std::vector<std::string>{"--max-connections", "0"},
        std::vector<std::string>{"--max-connections", "-1"}}) {
    testing::TempDir dir;
    ServerProcess server(CUSTODY_BINARY, dir.File("custody.db"), dir.File("serve.log"), flags);
    EXPECT_EQ(server.port(), 0) << flags[0] << " " << flags[1];
    const int status = server.Stop(SIGKILL);  // already gone: returns how it ended
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << server.Log();
  }
}

}  // namespace
}  // namespace custody::hardening
