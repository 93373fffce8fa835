#include "server/http_session.h"

#include <sstream>

#include <spdlog/spdlog.h>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "server/export_stream.h"
#include "server/live_stream.h"
#include "server/problem.h"

namespace custody::server {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr std::size_t kReadChunk = 4096;

bool IsHttpError(beast::error_code error) {
  return error.category() == http::make_error_code(http::error::bad_target).category();
}

std::string Header(const http::request<http::string_body>& message, http::field field) {
  const auto found = message.find(field);
  return found == message.end() ? std::string() : std::string(found->value());
}

// The path and query of a target; an absolute-form target ("http://host/path?query"), which
// servers must accept (RFC 9112, 3.2.2), loses its scheme and authority.
std::string OriginForm(std::string_view target) {
  if (!target.starts_with("/")) {
    const std::size_t scheme = target.find("://");
    if (scheme != std::string_view::npos) {
      const std::size_t path = target.find_first_of("/?", scheme + 3);
      if (path == std::string_view::npos) return "/";
      if (target[path] == '?') return "/" + std::string(target.substr(path));
      return std::string(target.substr(path));
    }
  }
  return std::string(target);
}

// A body is framed by Content-Length or by chunked alone. Any other transfer coding (say
// "chunked, gzip", where the length cannot be known) would let the rest of the body be read as
// the next request: refused, as RFC 9112 asks.
bool HasUnframedBody(const http::request<http::string_body>& message) {
  const std::size_t fields = message.count(http::field::transfer_encoding);
  if (fields == 0) return false;
  const std::string_view coding = TrimOws(message[http::field::transfer_encoding]);
  return fields > 1 || !beast::iequals(coding, "chunked");
}

// The method and target of the unparsed request line at the start of `buffer` when it is well
// formed but for its version ("METHOD SP target SP HTTP/d.d CRLF"), a view into `buffer`.
struct RequestLine {
  std::string_view method;
  std::string_view target;
};
std::optional<RequestLine> LineOfAnotherVersion(const beast::flat_buffer& buffer) {
  const std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
  const std::size_t end = data.find("\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  const std::string_view line = data.substr(0, end);
  const std::size_t first = line.find(' ');
  const std::size_t last = line.rfind(' ');
  if (first == 0 || first == std::string_view::npos || last == first + 1 ||
      line.find(' ', first + 1) != last) {
    return std::nullopt;
  }
  const std::string_view version = line.substr(last + 1);
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (version.size() != 8 || !version.starts_with("HTTP/") || !digit(version[5]) ||
      version[6] != '.' || !digit(version[7])) {
    return std::nullopt;
  }
  return RequestLine{line.substr(0, first), line.substr(first + 1, last - first - 1)};
}

}  // namespace

HttpSession::HttpSession(net::ip::tcp::socket socket, std::shared_ptr<SharedState> state)
    : stream_(std::move(socket)),
      state_(std::move(state)),
      buffer_(state_->options.header_limit + kReadChunk) {
  beast::error_code error;
  const auto remote = stream_.socket().remote_endpoint(error);
  if (!error) peer_ip_ = remote.address().to_string();
}

HttpSession::~HttpSession() {
  if (counted_) state_->metrics.ConnectionClosed();
  state_->Unregister(this);
}

void HttpSession::Start() {
  state_->Register(shared_from_this());
  state_->metrics.ConnectionOpened();
  counted_ = true;
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
}

void HttpSession::Refuse() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->method_ = "-";
    self->path_ = "-";
    self->started_ = std::chrono::steady_clock::now();
    self->SendAndClose(Problem("/", 503, "too_many_connections",
                               "the server is at its connection limit; retry later"));
  });
}

void HttpSession::Shutdown() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == Phase::kIdle) return self->Close();
    if (self->phase_ == Phase::kStreaming && self->stream_job_) self->stream_job_->Close();
    // Reading, handling, writing: the answer goes out with Connection: close.
  });
}

void HttpSession::ForceClose() {
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
}

void HttpSession::WaitForRequest() {
  if (state_->stopping || phase_ == Phase::kClosed) return Close();
  if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
  phase_ = Phase::kIdle;
  stream_.expires_after(state_->options.idle_timeout);
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          [self = shared_from_this()](beast::error_code error, std::size_t bytes) {
                            if (error) return self->Close();  // closed, idle too long, or stopping
                            self->buffer_.commit(bytes);
                            self->ReadHeader();
                          });
}

void HttpSession::ReadHeader() {
  phase_ = Phase::kReading;
  started_ = std::chrono::steady_clock::now();
  method_ = "-";
  path_ = "-";
  route_ = "unmatched";
  token_id_.clear();
  parser_.emplace();
  parser_->body_limit(state_->options.body_limit);
  parser_->header_limit(static_cast<std::uint32_t>(state_->options.header_limit));
  stream_.expires_after(state_->options.read_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code error, std::size_t header_bytes) {
        self->OnHeader(error, header_bytes);
      });
}

void HttpSession::OnHeader(beast::error_code error, std::size_t header_bytes) {
  // Beast's own check of the limit lets some headers a few KiB over it through (measured: a
  // header of many fields sent at once); the bytes it parsed for the header are its exact size.
  if (!error && header_bytes > state_->options.header_limit) error = http::error::header_limit;
  if (error) return OnReadError(error);
  const auto& message = parser_->get();
  method_ = std::string(message.method_string());
  path_ = PathOf(OriginForm(message.target()));
  if (HasUnframedBody(message)) {
    version_ = message.version();
    return SendAndClose(Problem(path_, 400, "invalid_request",
                                "the only transfer coding accepted is chunked, alone"));
  }
  if (!parser_->is_done() && beast::iequals(Header(message, http::field::expect), "100-continue")) {
    // The client waits for this before sending its body.
    return WriteRaw("HTTP/1.1 100 Continue\r\n\r\n", [self = shared_from_this()](auto error) {
      if (error) return self->Close();
      self->ReadBody();
    });
  }
  ReadBody();
}

void HttpSession::ReadBody() {
  // The read deadline covers the whole request from its first byte: writing 100 Continue set a
  // write deadline on the stream, which must not give a slow body more time.
  stream_.expires_at(started_ + state_->options.read_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code error, std::size_t) {
                     self->OnRequest(error);
                   });
}

void HttpSession::OnReadError(beast::error_code error) {
  if (parser_) {
    // The request line is known as soon as it was parsed, also when the header or a declared
    // body length failed afterwards: the problem names the path the client asked for.
    const auto& message = parser_->get();
    if (!message.target().empty()) {
      method_ = std::string(message.method_string());
      path_ = PathOf(OriginForm(message.target()));
    }
    if (parser_->is_header_done()) version_ = message.version();
  }
  const std::string instance = path_ == "-" ? "/" : path_;
  if (error == http::error::body_limit) {
    return SendAndClose(Problem(
        instance, 413, "body_too_large",
        "the body is over the limit of " + std::to_string(state_->options.body_limit) + " bytes"));
  }
  // A trailer section larger than the read buffer (http_session.h) ends the same way.
  if (error == http::error::header_limit || error == http::error::buffer_overflow) {
    return SendAndClose(Problem(instance, 431, "headers_too_large",
                                "the request header is over the limit of " +
                                    std::to_string(state_->options.header_limit) + " bytes"));
  }
  // Beast parses HTTP/1.0 and HTTP/1.1 only, and says "bad version" too for a request line
  // malformed after its target: only a well-formed line naming another version is a 505.
  if (const auto line =
          error == http::error::bad_version ? LineOfAnotherVersion(buffer_) : std::nullopt) {
    method_ = std::string(line->method);
    path_ = PathOf(OriginForm(line->target));
    return SendAndClose(Problem(path_, 505, "http_version_not_supported",
                                "the request line's version is not HTTP/1.0 or HTTP/1.1"));
  }
  if (IsHttpError(error) && error != http::error::end_of_stream &&
      error != http::error::partial_message) {
    return SendAndClose(Problem(instance, 400, "invalid_request",
                                "the request is not valid HTTP/1.1: " + error.message()));
  }
  Close();  // end of stream, timeout, reset: nobody to answer
}

void HttpSession::OnRequest(beast::error_code error) {
  if (error) return OnReadError(error);
  phase_ = Phase::kHandling;
  Dispatch();
}

void HttpSession::Dispatch() {
  http::request<http::string_body> message = parser_->release();
  parser_.reset();
  version_ = message.version();
  keep_alive_ = message.keep_alive();
  // RFC 9112, 3.2: one Host field, required from HTTP/1.1 clients.
  const std::size_t hosts = message.count(http::field::host);
  if (hosts > 1 || (hosts == 0 && version_ >= 11)) {
    keep_alive_ = false;
    return Answer(Problem(path_, 400, "invalid_request",
                          hosts > 1 ? "the request has more than one Host field"
                                    : "an HTTP/1.1 request needs a Host field"));
  }
  Request request;
  request.method = method_;
  request.target = OriginForm(message.target());
  // Two Authorization fields are a malformed request, not a choice: a proxy that checked the
  // other one would disagree about who is calling.
  if (message.count(http::field::authorization) == 1) {
    request.authorization = Header(message, http::field::authorization);
  }
  if (message.count(http::field::content_type) == 1) {  // two are no type at all: 415
    request.content_type = Header(message, http::field::content_type);
  }
  request.accept = Header(message, http::field::accept);
  request.user_agent = Header(message, http::field::user_agent);
  request.has_last_event_id = message.find("Last-Event-ID") != message.end();
  // Two are no position to resume from (400), not a choice of the first.
  if (message.count("Last-Event-ID") == 1) {
    request.last_event_id = std::string(message["Last-Event-ID"]);
  }
  request.body = std::move(message.body());
  request.peer_ip = peer_ip_;
  auto route = [self = shared_from_this(), request = std::move(request)] {
    Response response = Route(request, self->state_->context);
    if (!response.deferred) return self->Answer(std::move(response));
    // The command service lets go of this callback (and so of the session) once it has called
    // it: nothing holds the session after the stop has waited for every command's reply.
    response.deferred(
        [self](std::function<Response()> render) { self->AnswerWith(std::move(render)); });
  };
  // A command (the two POST routes) reads its token, and its earlier result when it repeats a
  // command_id, each by an index; parses a body of at most body_limit bytes; decides from
  // memory; then queues its append and returns. Routed here, it saves a hand-over to a worker
  // and back (a sixth of the server's CPU per command). Queries and history pages may read
  // much of the log: a worker routes them, so that they never hold up the connections sharing
  // this I/O thread.
  if (method_ == "POST") return route();
  net::post(state_->pool, std::move(route));
}

void HttpSession::Answer(Response response) {
  net::post(stream_.get_executor(),
            [self = shared_from_this(), response = std::move(response)]() mutable {
              self->Send(std::move(response));
            });
}

void HttpSession::AnswerWith(std::function<Response()> render) {
  net::post(stream_.get_executor(),
            [self = shared_from_this(), render = std::move(render)] { self->Send(render()); });
}

void HttpSession::Send(Response response) {
  if (phase_ == Phase::kClosed) return;
  route_ = response.route;
  token_id_ = response.token_id;
  if (response.stream) return StartStream(std::move(response));
  phase_ = Phase::kWriting;
  const bool keep_alive = keep_alive_ && !state_->stopping;
  auto message = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(response.status), version_);
  message->set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) message->set(name, value);
  message->body() = std::move(response.body);
  message->keep_alive(keep_alive);
  message->prepare_payload();
  // A HEAD answer is the header alone (RFC 9110, 9.3.2): bytes after it would be read as the
  // start of the next answer on this connection.
  if (method_ == "HEAD") message->body().clear();
  const int status = response.status;
  stream_.expires_after(kWriteTimeout);
  http::async_write(stream_, *message,
                    [self = shared_from_this(), message, keep_alive, status](
                        beast::error_code error, std::size_t) {
                      self->Log(status);
                      self->OnWritten(error, keep_alive);
                    });
}

void HttpSession::OnWritten(beast::error_code error, bool keep_alive) {
  if (error) return Close();
  if (!keep_alive) return Linger();
  WaitForRequest();
}

void HttpSession::SendAndClose(Response response) {
  keep_alive_ = false;
  phase_ = Phase::kWriting;
  Send(std::move(response));
}

void HttpSession::StartStream(Response response) {
  phase_ = Phase::kStreaming;
  // HTTP/1.0 has no chunked encoding: the body ends when the connection closes.
  chunked_ = version_ >= 11;
  http::response<http::empty_body> header(static_cast<http::status>(response.status), version_);
  header.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) header.set(name, value);
  if (chunked_) header.chunked(true);
  // A HEAD answer is the stream's header and nothing after it, so it needs no chunking to end.
  const bool head = method_ == "HEAD";
  const bool keep_alive = (head || chunked_) && keep_alive_ && !state_->stopping;
  header.keep_alive(keep_alive);
  std::ostringstream bytes;
  bytes << header.base();
  if (head) {
    phase_ = Phase::kWriting;
    Log(response.status);
    return WriteRaw(bytes.str(), [self = shared_from_this(), keep_alive](beast::error_code error) {
      self->OnWritten(error, keep_alive);
    });
  }
  const StreamPlan plan = *response.stream;
  auto self = shared_from_this();
  if (plan.kind == StreamPlan::Kind::kLive) {
    stream_job_ = std::make_shared<LiveStream>(self, plan.filter, plan.token_id);
  } else {
    stream_job_ = std::make_shared<ExportStream>(self, plan);
  }
  Log(response.status);
  const bool live = plan.kind == StreamPlan::Kind::kLive;
  WriteRaw(bytes.str(), [self, live](beast::error_code error) {
    if (error || !self->stream_job_) return self->Close();
    // Before Start, which may end the stream at once (the server stopping) and linger.
    if (live) self->WatchPeer();
    self->stream_job_->Start();
  });
}

void HttpSession::WriteChunk(std::string data, WriteDone done) {
  if (data.empty()) {
    return net::post(stream_.get_executor(), [done = std::move(done)] { done({}); });
  }
  if (!chunked_) return WriteRaw(std::move(data), std::move(done));
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string framed = size;
  framed.reserve(framed.size() + data.size() + 2);
  framed += data;
  framed += "\r\n";
  WriteRaw(std::move(framed), std::move(done));
}

void HttpSession::WriteLastChunk(WriteDone done) {
  if (!chunked_) {
    return net::post(stream_.get_executor(), [done = std::move(done)] { done({}); });
  }
  WriteRaw("0\r\n\r\n", std::move(done));
}

void HttpSession::StreamEnded(bool reusable) {
  stream_job_.reset();
  if (reusable && chunked_ && keep_alive_ && !state_->stopping) return WaitForRequest();
  Linger();
}

void HttpSession::WriteRaw(std::string bytes, WriteDone done) {
  auto owned = std::make_shared<std::string>(std::move(bytes));
  stream_.expires_after(kWriteTimeout);
  net::async_write(
      stream_, net::buffer(*owned),
      [owned, done = std::move(done)](beast::error_code error, std::size_t) { done(error); });
}

void HttpSession::Log(int status) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  state_->metrics.ObserveRequest(route_, method_, status, seconds);
  // No query string (it may carry names people consider private), never a token or a body.
  spdlog::info("{} {} {} {:.1f}ms token={} peer={}", method_, path_, status, seconds * 1000,
               token_id_.empty() ? "-" : token_id_, peer_ip_);
}

void HttpSession::Linger() {
  // Half-close and read what the client still sends, so the answer is not lost to a reset
  // when unread request bytes (a refused body) are still arriving.
  if (phase_ == Phase::kClosed) return;
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  if (watching_) {
    // A live tail's watch is the pending read, with no deadline: cancel it, and its handler
    // drains with one.
    lingering_ = true;
    stream_.socket().cancel(ignored);
    return;
  }
  stream_.expires_after(kLingerTimeout);
  Drain();
}

void HttpSession::WatchPeer() {
  watching_ = true;
  stream_.expires_never();  // applies to this read only: writes set their own deadline
  stream_.async_read_some(net::buffer(drain_),
                          [self = shared_from_this()](beast::error_code error, std::size_t) {
                            self->watching_ = false;
                            if (self->lingering_) return self->Linger();
                            if (error) return self->Close();  // gone, reset, or closed here
                            self->WatchPeer();  // a tail's client has nothing to say: dropped
                          });
}

void HttpSession::Drain() {
  stream_.async_read_some(net::buffer(drain_),
                          [self = shared_from_this()](beast::error_code error, std::size_t) {
                            if (error) return self->Close();
                            self->Drain();
                          });
}

void HttpSession::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  if (stream_job_) {
    auto job = std::move(stream_job_);
    job->Close();
  }
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace custody::server
