#pragma once

// GET /v1/events/live: a Server-Sent Events tail. Subscribes to the live hub first (buffering
// what arrives), catches up from the log after the cursor a page at a time, then flushes the
// buffer and follows the hub: no polling, no gaps, no duplicates (every event sent has a
// position above the last one sent). A client too slow for the live rate loses its buffer and
// catches up from the log again. A comment line every 15 s keeps proxies from timing out.

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <boost/asio/steady_timer.hpp>

#include "server/http_session.h"
#include "server/live_hub.h"

namespace custody::server {

class LiveStream : public SessionStream, public std::enable_shared_from_this<LiveStream> {
 public:
  LiveStream(std::shared_ptr<HttpSession> session, eventstore::Filter filter, std::string token_id);
  ~LiveStream() override;

  void Start() override;
  void Close() override;

 private:
  enum class Mode { kCatchingUp, kLive };

  void OnLive(const EventBatch& batch);
  void FetchPage();
  void OnPage(Result<eventstore::Page> page);
  void Flush();
  void Write(std::string chunk);
  void OnWritten(boost::beast::error_code error);
  void ArmKeepAlive();
  // Whether the stream's token may still read, asked of the token store at most once a
  // second. A token revoked (by `custody token revoke`, perhaps in another process) ends the
  // stream before it sends anything more than a second later.
  bool TokenStillLive();
  void Finish(bool clean);

  std::shared_ptr<HttpSession> session_;
  eventstore::Filter filter_;  // after_position: the last position sent (or being sent)
  std::string token_id_;
  std::chrono::steady_clock::time_point token_checked_;
  Mode mode_ = Mode::kCatchingUp;
  std::deque<Event> pending_;  // from the hub, not sent yet
  bool overflowed_ = false;    // pending_ was dropped since the page being fetched started
  // Start() comes once the session has written the response header: until then the session's
  // write is in flight, and closing must not write the last chunk beside it.
  bool started_ = false;
  bool writing_ = false;
  bool fetching_ = false;
  bool closing_ = false;
  bool finished_ = false;
  int subscription_ = 0;
  boost::asio::steady_timer keep_alive_;
};

}  // namespace custody::server
