#pragma once

// A small HTTP/1.1 client for the server tests, on Boost.Beast: blocking calls with a
// deadline (each runs async operations on a private io_context), one connection per client.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

namespace custody::servertest {

struct HttpResponse {
  int status = 0;                              // 0: no answer (connection failed or closed)
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string error;  // why there is no answer

  std::string Header(const std::string& name) const;
  // The body parsed as JSON (null when it is not JSON).
  boost::json::value Json() const;
  // Problem documents: the `code` member.
  std::string Code() const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class Connection {
 public:
  explicit Connection(std::uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20));
  ~Connection();

  bool connected() const { return connected_; }
  // Sends one request and reads its whole answer (chunked bodies included).
  HttpResponse Request(const std::string& method, const std::string& target,
                       const Headers& headers = {}, const std::string& body = "");
  // Writes raw bytes (for malformed or pipelined requests).
  bool WriteRaw(const std::string& bytes);
  // Reads one answer.
  HttpResponse Read();
  // Reads one answer's header only, leaving the body to ReadSome (streams).
  HttpResponse ReadHeader();
  // Reads chunk data as it arrives; empty with `closed` set once the body or connection ends.
  std::string ReadSome(std::chrono::milliseconds timeout, bool* closed);
  // True when the server closed the connection (a read sees end of stream within `timeout`).
  bool ClosedByPeer(std::chrono::milliseconds timeout);

 private:
  template <class Start>
  boost::system::error_code Run(std::chrono::milliseconds timeout, Start start);

  boost::asio::io_context io_;
  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::chrono::milliseconds timeout_;
  bool connected_ = false;
  std::unique_ptr<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
  std::string chunk_data_;
};

// One request on a fresh connection.
HttpResponse Send(std::uint16_t port, const std::string& method, const std::string& target,
                  const Headers& headers = {}, const std::string& body = "");

// A Server-Sent Events reader on its own connection.
struct SseEvent {
  std::string id;
  std::string event;
  std::string data;
};

class SseClient {
 public:
  // Opens GET `target` with the token and, when given, Last-Event-ID; status() is the answer.
  SseClient(std::uint16_t port, const std::string& target, const std::string& token,
            std::optional<std::string> last_event_id = std::nullopt);
  int status() const { return header_.status; }
  const HttpResponse& header() const { return header_; }
  // The next event (comments skipped); nullopt on timeout or end of stream.
  std::optional<SseEvent> Next(std::chrono::milliseconds timeout);
  // Whether the stream ended (server closed it) within `timeout`.
  bool Ended(std::chrono::milliseconds timeout);

 private:
  Connection connection_;
  HttpResponse header_;
  std::string text_;
  bool closed_ = false;
};

}  // namespace custody::servertest
