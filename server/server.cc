#include "server/server.h"

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>

#include "server/http_session.h"
#include "server/listener.h"
#include "server/shared_state.h"

namespace custody::server {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// How long a stop waits for requests in flight, then for forced closes to settle.
constexpr auto kDrainTimeout = std::chrono::seconds(5);
constexpr auto kForceTimeout = std::chrono::seconds(2);

Result<tcp::endpoint> ResolveListenAddress(net::io_context& io, const ServerOptions& options) {
  boost::system::error_code error;
  tcp::resolver resolver(io);
  const auto endpoints =
      resolver.resolve(options.host, std::to_string(options.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, error);
  if (error || endpoints.empty()) {
    std::string message = "cannot resolve listen address '" + options.host +
                          "': " + (error ? error.message() : "no address");
    // A name that does not exist is the caller's mistake; a resolver failing is not.
    const bool unknown = !error || error == net::error::host_not_found ||
                         error == net::error::no_data || error == net::error::service_not_found;
    return unknown ? Status::InvalidArgument(std::move(message))
                   : Status::IOError(std::move(message));
  }
  return endpoints.begin()->endpoint();
}

// Runs the event loop until it stops. A handler that throws (a library limit no check here
// foresaw) loses its connection, whose state the exception unwound, not the process: Asio lets
// a thread rejoin the loop after catching it.
void RunLoop(net::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("a connection was dropped after an unexpected error: {}", e.what());
    } catch (...) {
      spdlog::error("a connection was dropped after an unexpected error");
    }
  }
}

}  // namespace

std::string UrlAuthority(const std::string& host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Status Server::CheckListenAddress(const ServerOptions& options) {
  net::io_context io;
  Result<tcp::endpoint> endpoint = ResolveListenAddress(io, options);
  if (!endpoint.ok()) return endpoint.status();
  tcp::acceptor probe(io);  // closed again at once
  return OpenAcceptor(probe, *endpoint);
}

class Server::Impl {
 public:
  Impl(App& app, ServerOptions options)
      : state_(std::make_shared<SharedState>(app, std::move(options))) {}
  ~Impl() { Stop(); }

  Status Start();
  void Stop();
  void WaitForSignal();
  std::uint16_t port() const { return listener_ ? listener_->port() : 0; }

 private:
  // Declared first, destroyed last: sessions destroyed with the io_context still use it.
  std::shared_ptr<SharedState> state_;
  net::io_context io_;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work_;
  std::shared_ptr<Listener> listener_;
  std::vector<std::thread> threads_;
  int subscription_ = -1;

  std::mutex stop_mutex_;  // held for the whole stop: a second caller waits for the first
  bool stopped_ = false;
  std::mutex wait_mutex_;
  std::condition_variable wake_;
  bool wake_requested_ = false;
};

Status Server::Impl::Start() {
  const ServerOptions& options = state_->options;
  if (!IsSupportedHeaderLimit(options.header_limit)) {
    return Status::InvalidArgument("the header limit must be from " +
                                   std::to_string(kMinHeaderLimit) + " to " +
                                   std::to_string(kMaxHeaderLimit) + " bytes");
  }
  Result<tcp::endpoint> endpoint = ResolveListenAddress(io_, options);
  if (!endpoint.ok()) return endpoint.status();
  auto listener = Listener::Open(io_, *endpoint, state_);
  if (!listener.ok()) return listener.status();
  listener_ = std::move(listener).value();

  // Appends are counted and fanned out to live tails from the store's writer thread; both
  // only take a short lock and post.
  SharedState* shared = state_.get();
  subscription_ = state_->app.store->Subscribe([shared](const std::vector<Event>& events) {
    shared->metrics.ObserveAppend(events.size());
    shared->hub.Publish(events);
  });

  work_.emplace(io_.get_executor());
  listener_->Run();
  const int io_threads = std::max(1, options.io_threads);
  for (int i = 0; i < io_threads; ++i) threads_.emplace_back([this] { RunLoop(io_); });
  spdlog::info("listening on http://{} ({} I/O threads, {} workers)",
               UrlAuthority(endpoint->address().to_string(), listener_->port()), io_threads,
               options.worker_threads);
  return Status::Ok();
}

void Server::Impl::Stop() {
  std::lock_guard stop_lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  if (listener_) {
    spdlog::info("stopping: no new connections, finishing requests in flight");
    state_->stopping = true;
    listener_->Stop();
    for (const auto& session : state_->Sessions()) session->Shutdown();
    if (!state_->WaitForNoSessions(kDrainTimeout)) {
      const auto left = state_->Sessions();
      spdlog::warn("stopping: closing {} connections still open", left.size());
      for (const auto& session : left) session->ForceClose();
    }
    (void)state_->WaitForNoSessions(kForceTimeout);
    if (subscription_ >= 0) state_->app.store->Unsubscribe(subscription_);
    subscription_ = -1;
    state_->pool.join();  // every request handed to a worker has been routed
    // Commands answer from the writer thread by posting to the event loop: all of them must
    // have answered before the loop goes.
    state_->app.commands->WaitUntilIdle();
    work_.reset();
    io_.stop();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
    spdlog::info("stopped");
  }
  std::lock_guard lock(wait_mutex_);
  wake_requested_ = true;
  wake_.notify_all();
}

void Server::Impl::WaitForSignal() {
  auto signals = std::make_shared<net::signal_set>(io_, SIGINT, SIGTERM);
  signals->async_wait([this, signals](const boost::system::error_code& error, int number) {
    if (error) return;
    spdlog::info("signal {} received", number);
    std::lock_guard lock(wait_mutex_);
    wake_requested_ = true;
    wake_.notify_all();
  });
  {
    std::unique_lock lock(wait_mutex_);
    wake_.wait(lock, [&] { return wake_requested_; });
  }
  boost::system::error_code ignored;
  signals->cancel(ignored);
  Stop();
}

Result<std::unique_ptr<Server>> Server::Start(App& app, ServerOptions options) {
  auto impl = std::make_unique<Impl>(app, std::move(options));
  Status started = impl->Start();
  if (!started.ok()) return started;
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(); }
std::uint16_t Server::port() const { return impl_->port(); }
void Server::Stop() { impl_->Stop(); }
void Server::WaitForSignal() { impl_->WaitForSignal(); }

}  // namespace custody::server
