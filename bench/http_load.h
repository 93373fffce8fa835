#pragma once

// A small HTTP/1.1 load generator on Boost.Beast: any number of keep-alive connections on one
// thread, each sending its next request as soon as the previous answer is read.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace custody::bench {

// One request as bytes on the wire, and the status it must get.
struct WireRequest {
  std::string bytes;
  int expect = 200;
};

// Builds the bytes of a request with keep-alive.
std::string BuildRequest(const std::string& method, const std::string& target,
                         const std::string& token, const std::string& body = "");

// The next request of connection `index`; nullopt when it has nothing more to send.
using RequestSource = std::function<std::optional<WireRequest>(int index)>;

struct LoadResult {
  std::int64_t done = 0;    // answered with the expected status
  std::int64_t failed = 0;  // answered otherwise, or a connection error
  std::string first_failure;
  double seconds = 0;
  std::vector<double> latencies_ms;  // of the answers with the expected status
};

// Runs `connections` connections to 127.0.0.1:`port` until `seconds` pass (0: until every
// source is exhausted).
LoadResult RunLoad(std::uint16_t port, int connections, double seconds,
                   const RequestSource& source);

// One request on a fresh connection: the status (0 when there is no answer) and the body.
std::pair<int, std::string> Fetch(std::uint16_t port, const std::string& method,
                                  const std::string& target, const std::string& token,
                                  const std::string& body = "");

}  // namespace custody::bench
