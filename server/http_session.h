#pragma once

// One HTTP/1.1 connection: read a request (idle timeout before its first byte, read deadline
// for the whole of it, header and body limits), hand it to the router (on the worker pool for
// queries, in place for commands), write the answer on the connection's strand, and read the
// next (keep-alive, pipelining).
// Streaming answers (export, live tail) take over the connection through a SessionStream.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/request.h"
#include "server/shared_state.h"

namespace custody::server {

// A response body that is produced after the header, chunk by chunk.
class SessionStream {
 public:
  virtual ~SessionStream() = default;
  // Called on the session's strand once the header is written.
  virtual void Start() = 0;
  // The server is stopping: end soon. On the session's strand.
  virtual void Close() = 0;
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  using WriteDone = std::function<void(boost::beast::error_code)>;

  HttpSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<SharedState> state);
  ~HttpSession();

  // Begins serving. Any thread.
  void Start();
  // Answers 503 too_many_connections and closes. Any thread.
  void Refuse();
  // The server is stopping: idle connections close, requests in flight finish without
  // keep-alive, streams end. Any thread.
  void Shutdown();
  // Closes the connection now. Any thread.
  void ForceClose();

  // For streams, on the strand: one chunk of the body (empty data is skipped), the final
  // chunk, and the end of the stream (`reusable`: the connection may serve another request).
  void WriteChunk(std::string data, WriteDone done);
  void WriteLastChunk(WriteDone done);
  void StreamEnded(bool reusable);

  SharedState& state() { return *state_; }
  boost::asio::any_io_executor executor() { return stream_.get_executor(); }

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kStreaming, kClosed };

  void WaitForRequest();
  void ReadHeader();
  void OnHeader(boost::beast::error_code error, std::size_t header_bytes);
  void ReadBody();
  void OnRequest(boost::beast::error_code error);
  void OnReadError(boost::beast::error_code error);
  void Dispatch();
  // Sends `response`, or what `render` builds, on the connection's strand. Any thread.
  void Answer(Response response);
  void AnswerWith(std::function<Response()> render);
  void Send(Response response);
  void StartStream(Response response);
  void OnWritten(boost::beast::error_code error, bool keep_alive);
  void SendAndClose(Response response);
  void WriteRaw(std::string bytes, WriteDone done);
  void Log(int status);
  void Linger();
  void Drain();
  // During a live tail: a read without deadline that closes the connection when the client
  // goes away, instead of waiting for a write to fail.
  void WatchPeer();
  void Close();

  boost::beast::tcp_stream stream_;
  std::shared_ptr<SharedState> state_;
  // Bounded: a header must fit in it, and so must a chunked body's trailer section, which the
  // parser holds whole and does not count against its header limit.
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::string peer_ip_;
  Phase phase_ = Phase::kIdle;
  bool counted_ = false;  // counted in the open connections gauge

  // The request being answered, for the response, the access log and the metrics.
  std::string method_;
  std::string path_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  std::string route_ = "unmatched";
  std::string token_id_;
  std::chrono::steady_clock::time_point started_;
  bool chunked_ = true;
  std::shared_ptr<SessionStream> stream_job_;
  char drain_[4096];
  bool watching_ = false;   // WatchPeer's read is pending: it is the connection's only reader
  bool lingering_ = false;  // Linger cancelled that read to drain with a deadline instead
};

}  // namespace custody::server
