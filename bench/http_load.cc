#include "bench/http_load.h"

#include <memory>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include "bench/common.h"

namespace custody::bench {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(net::io_context& io, int index, const RequestSource& source, LoadResult* result,
             const bool* stopping)
      : socket_(io), index_(index), source_(source), result_(result), stopping_(stopping) {}

  void Start(const tcp::endpoint& endpoint) {
    socket_.async_connect(endpoint, [self = shared_from_this()](beast::error_code error) {
      if (error) return self->Fail("connect: " + error.message());
      self->socket_.set_option(tcp::no_delay(true));
      self->SendNext();
    });
  }

 private:
  void SendNext() {
    if (*stopping_) return;
    std::optional<WireRequest> next = source_(index_);
    if (!next) return;
    request_ = std::move(*next);
    started_ = Clock::now();
    net::async_write(socket_, net::buffer(request_.bytes),
                     [self = shared_from_this()](beast::error_code error, std::size_t) {
                       if (error) return self->Fail("write: " + error.message());
                       self->Read();
                     });
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024 * 1024);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, std::size_t) {
                       if (error) return self->Fail("read: " + error.message());
                       self->OnAnswer();
                     });
  }

  void OnAnswer() {
    const double ms = SecondsSince(started_) * 1000;
    const auto& response = parser_->get();
    if (static_cast<int>(response.result_int()) == request_.expect) {
      ++result_->done;
      result_->latencies_ms.push_back(ms);
    } else {
      ++result_->failed;
      if (result_->first_failure.empty()) {
        result_->first_failure = std::to_string(response.result_int()) + " " + response.body();
      }
    }
    SendNext();
  }

  void Fail(const std::string& what) {
    ++result_->failed;
    if (result_->first_failure.empty()) result_->first_failure = what;
  }

  tcp::socket socket_;
  int index_;
  const RequestSource& source_;
  LoadResult* result_;
  const bool* stopping_;
  WireRequest request_;
  Clock::time_point started_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<http::string_body>> parser_;
};

}  // namespace

std::string BuildRequest(const std::string& method, const std::string& target,
                         const std::string& token, const std::string& body) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  out += "User-Agent: custody-bench/1.0\r\n";
  if (!token.empty()) out += "Authorization: Bearer " + token + "\r\n";
  if (method == "POST") {
    out +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

LoadResult RunLoad(std::uint16_t port, int connections, double seconds,
                   const RequestSource& source) {
  net::io_context io;
  LoadResult result;
  bool stopping = false;
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  for (int i = 0; i < connections; ++i) {
    std::make_shared<Connection>(io, i, source, &result, &stopping)->Start(endpoint);
  }
  net::steady_timer timer(io);
  if (seconds > 0) {
    timer.expires_after(
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
    timer.async_wait([&](beast::error_code) { stopping = true; });
  }
  const auto start = Clock::now();
  // Answers in flight when the time is up are still read, then each connection stops.
  io.run();
  result.seconds = seconds > 0 ? seconds : SecondsSince(start);
  return result;
}

std::pair<int, std::string> Fetch(std::uint16_t port, const std::string& method,
                                  const std::string& target, const std::string& token,
                                  const std::string& body) {
  try {
    net::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    net::write(socket, net::buffer(BuildRequest(method, target, token, body)));
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    http::read(socket, buffer, parser);
    return {static_cast<int>(parser.get().result_int()), parser.get().body()};
  } catch (const std::exception& e) {
    return {0, e.what()};
  }
}

}  // namespace custody::bench
