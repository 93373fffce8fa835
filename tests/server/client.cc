#include "tests/server/client.h"

#include <algorithm>
#include <cctype>
#include <functional>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>

namespace custody::servertest {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

HttpResponse FromMessage(const http::response<http::string_body>& message) {
  HttpResponse response;
  response.status = static_cast<int>(message.result_int());
  for (const auto& field : message) {
    response.headers[Lower(std::string(field.name_string()))] = std::string(field.value());
  }
  response.body = message.body();
  return response;
}

}  // namespace

std::string HttpResponse::Header(const std::string& name) const {
  const auto found = headers.find(Lower(name));
  return found == headers.end() ? std::string() : found->second;
}

boost::json::value HttpResponse::Json() const {
  boost::system::error_code error;
  boost::json::value value = boost::json::parse(body, error);
  return error ? boost::json::value(nullptr) : value;
}

std::string HttpResponse::Code() const {
  const boost::json::value value = Json();
  if (!value.is_object()) return "";
  const auto* code = value.get_object().if_contains("code");
  return code != nullptr && code->is_string() ? std::string(code->get_string()) : "";
}

Connection::Connection(std::uint16_t port, std::chrono::milliseconds timeout)
    : stream_(io_), timeout_(timeout) {
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  const auto error = Run(timeout_, [&](auto handler) { stream_.async_connect(endpoint, handler); });
  connected_ = !error;
}

Connection::~Connection() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

template <class Start>
boost::system::error_code Connection::Run(std::chrono::milliseconds timeout, Start start) {
  boost::system::error_code result = net::error::would_block;
  stream_.expires_after(timeout);
  start([&result](boost::system::error_code error, auto&&...) { result = error; });
  io_.restart();
  io_.run();
  if (result) connected_ = false;
  return result;
}

bool Connection::WriteRaw(const std::string& bytes) {
  return !Run(timeout_,
              [&](auto handler) { net::async_write(stream_, net::buffer(bytes), handler); });
}

HttpResponse Connection::Request(const std::string& method, const std::string& target,
                                 const Headers& headers, const std::string& body) {
  http::request<http::string_body> message(http::string_to_verb(method), target, 11);
  message.method_string(method);
  message.set(http::field::host, "127.0.0.1");
  message.set(http::field::user_agent, "custody-test/1");
  for (const auto& [name, value] : headers) message.set(name, value);
  message.body() = body;
  if (!body.empty() || method == "POST") message.prepare_payload();
  const auto error =
      Run(timeout_, [&](auto handler) { http::async_write(stream_, message, handler); });
  if (error) return HttpResponse{0, {}, "", "write: " + error.message()};
  return Read();
}

HttpResponse Connection::Read() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  const auto error =
      Run(timeout_, [&](auto handler) { http::async_read(stream_, buffer_, parser, handler); });
  if (error) return HttpResponse{0, {}, "", "read: " + error.message()};
  return FromMessage(parser.get());
}

HttpResponse Connection::ReadHeader() {
  parser_ = std::make_unique<http::response_parser<http::string_body>>();
  parser_->body_limit(boost::none);
  const auto error = Run(timeout_, [&](auto handler) {
    http::async_read_header(stream_, buffer_, *parser_, handler);
  });
  if (error) return HttpResponse{0, {}, "", "read: " + error.message()};
  return FromMessage(parser_->get());
}

std::string Connection::ReadSome(std::chrono::milliseconds timeout, bool* closed) {
  *closed = false;
  if (!parser_ || parser_->is_done() || !connected_) {
    *closed = true;
    return "";
  }
  // Reads with the body written into the parser's string; take what arrived.
  bool done = false;
  boost::system::error_code result;
  stream_.expires_never();
  http::async_read_some(stream_, buffer_, *parser_,
                        [&](boost::system::error_code error, std::size_t) {
                          result = error;
                          done = true;
                        });
  io_.restart();
  io_.run_for(timeout);
  if (!done) {
    // Nothing within the timeout: cancel the read and let it finish before returning.
    stream_.socket().cancel();
    io_.restart();
    io_.run();
  }
  std::string data = std::move(parser_->get().body());
  parser_->get().body().clear();
  if (result && result != net::error::operation_aborted) {
    connected_ = false;
    *closed = true;
  }
  if (parser_->is_done()) *closed = true;
  return data;
}

bool Connection::ClosedByPeer(std::chrono::milliseconds timeout) {
  char byte;
  const auto error =
      Run(timeout, [&](auto handler) { stream_.async_read_some(net::buffer(&byte, 1), handler); });
  return error == net::error::eof || error == net::error::connection_reset;
}

HttpResponse Send(std::uint16_t port, const std::string& method, const std::string& target,
                  const Headers& headers, const std::string& body) {
  Connection connection(port);
  if (!connection.connected()) return HttpResponse{0, {}, "", "connect failed"};
  return connection.Request(method, target, headers, body);
}

SseClient::SseClient(std::uint16_t port, const std::string& target, const std::string& token,
                     std::optional<std::string> last_event_id)
    : connection_(port) {
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  request += "Accept: text/event-stream\r\n";
  if (!token.empty()) request += "Authorization: Bearer " + token + "\r\n";
  if (last_event_id) request += "Last-Event-ID: " + *last_event_id + "\r\n";
  request += "\r\n";
  if (!connection_.connected() || !connection_.WriteRaw(request)) return;
  header_ = connection_.ReadHeader();
  if (header_.status != 200) {
    // An error answer has a normal body: read it whole.
    bool closed = false;
    header_.body = connection_.ReadSome(std::chrono::seconds(5), &closed);
  }
}

std::optional<SseEvent> SseClient::Next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const std::size_t end = text_.find("\n\n");
    if (end != std::string::npos) {
      const std::string block = text_.substr(0, end + 1);
      text_.erase(0, end + 2);
      SseEvent event;
      bool any = false;
      std::size_t start = 0;
      while (start < block.size()) {
        const std::size_t eol = block.find('\n', start);
        const std::string line = block.substr(start, eol - start);
        start = eol + 1;
        if (line.empty() || line[0] == ':') continue;
        const std::size_t colon = line.find(": ");
        const std::string name = line.substr(0, colon);
        const std::string value = colon == std::string::npos ? "" : line.substr(colon + 2);
        if (name == "id") event.id = value, any = true;
        if (name == "event") event.event = value, any = true;
        if (name == "data") event.data += value, any = true;
      }
      if (any) return event;
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (closed_ || now >= deadline) return std::nullopt;
    text_ += connection_.ReadSome(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now), &closed_);
  }
}

bool SseClient::Ended(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_ && std::chrono::steady_clock::now() < deadline) {
    text_ += connection_.ReadSome(std::chrono::milliseconds(100), &closed_);
  }
  return closed_;
}

}  // namespace custody::servertest
