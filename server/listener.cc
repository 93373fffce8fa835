#include "server/listener.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "server/http_session.h"
#include "server/server.h"

namespace custody::server {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

}  // namespace

Listener::Listener(net::io_context& io, std::shared_ptr<SharedState> state)
    : io_(io),
      state_(std::move(state)),
      acceptor_(net::make_strand(io)),
      retry_(acceptor_.get_executor()) {}

Status OpenAcceptor(tcp::acceptor& acceptor, const tcp::endpoint& endpoint) {
  beast::error_code error;
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(net::socket_base::reuse_address(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(net::socket_base::max_listen_connections, error);
  if (!error) return Status::Ok();
  return Status::IOError("cannot listen on " +
                         UrlAuthority(endpoint.address().to_string(), endpoint.port()) + ": " +
                         error.message());
}

Result<std::shared_ptr<Listener>> Listener::Open(net::io_context& io, const tcp::endpoint& endpoint,
                                                 std::shared_ptr<SharedState> state) {
  auto listener = std::make_shared<Listener>(io, std::move(state));
  if (Status opened = OpenAcceptor(listener->acceptor_, endpoint); !opened.ok()) return opened;
  beast::error_code error;
  listener->port_ = listener->acceptor_.local_endpoint(error).port();
  return listener;
}

void Listener::Run() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->Accept(); });
}

void Listener::Stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_.cancel();
  });
}

void Listener::Accept() {
  if (!acceptor_.is_open()) return;
  // Each connection gets its own strand: its handlers never run concurrently.
  acceptor_.async_accept(net::make_strand(io_),
                         [self = shared_from_this()](beast::error_code error, tcp::socket socket) {
                           self->OnAccept(error, std::move(socket));
                         });
}

void Listener::OnAccept(boost::system::error_code error, tcp::socket socket) {
  if (error == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (error) {
    // Out of file descriptors, for instance: wait a little instead of spinning.
    spdlog::warn("accept failed: {}", error.message());
    retry_.expires_after(kAcceptRetry);
    retry_.async_wait([self = shared_from_this()](beast::error_code waited) {
      if (!waited) self->Accept();
    });
    return;
  }
  auto session = std::make_shared<HttpSession>(std::move(socket), state_);
  const auto open = state_->metrics.connections();
  if (state_->stopping || open >= static_cast<std::int64_t>(state_->options.max_connections)) {
    session->Refuse();
  } else {
    session->Start();
  }
  Accept();
}

}  // namespace custody::server
