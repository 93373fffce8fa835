#pragma once

// What every connection of one server shares: the app, the options, the metrics, the live hub,
// the worker pool for blocking work, and the registry of open sessions (for a graceful stop).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/thread_pool.hpp>

#include "server/live_hub.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/server.h"

namespace custody::server {

class HttpSession;

class SharedState {
 public:
  SharedState(App& app, ServerOptions options);

  App& app;
  const ServerOptions options;
  Metrics metrics;
  Context context{app, metrics};
  LiveHub hub;
  boost::asio::thread_pool pool;  // queries and history pages are routed here
  std::atomic<bool> stopping{false};

  void Register(const std::shared_ptr<HttpSession>& session);
  void Unregister(const HttpSession* session);
  // The sessions still open.
  std::vector<std::shared_ptr<HttpSession>> Sessions() const;
  // Waits until every session has ended or `timeout` passed; true when none is left.
  bool WaitForNoSessions(std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mutex_;
  std::condition_variable ended_;
  std::unordered_map<const HttpSession*, std::weak_ptr<HttpSession>> sessions_;
};

}  // namespace custody::server
