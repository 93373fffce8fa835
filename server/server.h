#pragma once

// The HTTP server: Boost.Beast over Boost.Asio, serving the routes of API.md for one App.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "domain/status.h"
#include "server/app.h"

namespace custody::server {

// Header limits Start accepts. Above the maximum one field could reach the 64 KiB the HTTP
// library cannot hold, and it would throw while reading a request.
inline constexpr std::size_t kMinHeaderLimit = 1024;
inline constexpr std::size_t kMaxHeaderLimit = 60000;
constexpr bool IsSupportedHeaderLimit(std::size_t limit) {
  return limit >= kMinHeaderLimit && limit <= kMaxHeaderLimit;
}

// What `custody serve` accepts for --body-limit and --max-connections: a body below 1 KiB
// cannot hold a command with its optional fields, one over 16 MiB is not a command; a
// connection is a file descriptor, and past 65,536 the process's limit is the bound anyway.
inline constexpr std::int64_t kMinBodyLimit = 1024;
inline constexpr std::int64_t kMaxBodyLimit = 16 * 1024 * 1024;
inline constexpr std::int64_t kMaxConnections = 65536;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: an ephemeral port (see Server::port())
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 16 * 1024;  // IsSupportedHeaderLimit, or Start refuses
  std::size_t max_connections = 1024;
  int io_threads = 2;
  // Queries and history pages (SQLite reads). Commands are decided on the I/O threads (or on
  // the writer's, after waiting for their stream's turn) and answered by the writer, so a few
  // threads keep up; more only add context switches.
  int worker_threads = 8;
  std::chrono::seconds read_timeout{15};  // to receive a whole request once it has started
  std::chrono::seconds idle_timeout{60};  // keep-alive connection with no request
};

// `host:port` as the authority of an http:// URL: an IPv6 address in brackets (RFC 3986, 3.2.2).
std::string UrlAuthority(const std::string& host, std::uint16_t port);

class Server {
 public:
  // Binds and starts serving in background threads; returns once listening. `app` must
  // outlive the server.
  static Result<std::unique_ptr<Server>> Start(App& app, ServerOptions options);
  // Whether Start could listen where `options` say, as far as can be told before it runs (the
  // address may still be taken in between). Lets a caller refuse before it creates anything.
  static Status CheckListenAddress(const ServerOptions& options);
  // Stops as Stop() does.
  ~Server();

  // The port actually bound (useful with port 0).
  std::uint16_t port() const;
  // Graceful stop: refuses new connections, lets requests in flight finish (up to a few
  // seconds), closes the rest. Idempotent.
  void Stop();
  // Blocks until SIGINT or SIGTERM arrives or Stop() is called, then stops.
  void WaitForSignal();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace custody::server
