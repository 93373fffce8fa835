#pragma once

// Accepts connections and starts a session for each; beyond max_connections a connection is
// accepted only to be answered 503 and closed.

#include <cstdint>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "domain/status.h"
#include "server/shared_state.h"

namespace custody::server {

// Opens `acceptor` on `endpoint` (address reuse on) and listens; errors name the address.
Status OpenAcceptor(boost::asio::ip::tcp::acceptor& acceptor,
                    const boost::asio::ip::tcp::endpoint& endpoint);

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens on `endpoint`; errors name the address.
  static Result<std::shared_ptr<Listener>> Open(boost::asio::io_context& io,
                                                const boost::asio::ip::tcp::endpoint& endpoint,
                                                std::shared_ptr<SharedState> state);

  void Run();
  // Closes the acceptor: no new connection is accepted. Any thread.
  void Stop();
  std::uint16_t port() const { return port_; }

  Listener(boost::asio::io_context& io, std::shared_ptr<SharedState> state);

 private:
  void Accept();
  void OnAccept(boost::system::error_code error, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  std::shared_ptr<SharedState> state_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::uint16_t port_ = 0;
};

}  // namespace custody::server
