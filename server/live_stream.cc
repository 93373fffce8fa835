#include "server/live_stream.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "eventstore/event_format.h"

namespace custody::server {
namespace {

namespace net = boost::asio;

constexpr std::size_t kPageEvents = 500;
constexpr std::size_t kMaxPending = 10000;
constexpr auto kKeepAliveEvery = std::chrono::seconds(15);
constexpr auto kTokenCheckEvery = std::chrono::seconds(1);

void AppendEvent(std::string& out, const Event& event) {
  out += "id: " + std::to_string(event.position) + "\nevent: " + event.type + "\ndata: ";
  out += eventstore::EventToJson(event);
  out += "\n\n";
}

}  // namespace

LiveStream::LiveStream(std::shared_ptr<HttpSession> session, eventstore::Filter filter,
                       std::string token_id)
    : session_(std::move(session)),
      filter_(std::move(filter)),
      token_id_(std::move(token_id)),
      token_checked_(std::chrono::steady_clock::now()),  // the request was just authenticated
      keep_alive_(session_->executor()) {
  session_->state().metrics.StreamOpened();
}

LiveStream::~LiveStream() {
  if (subscription_ != 0) session_->state().hub.Remove(subscription_);
  session_->state().metrics.StreamClosed();
}

void LiveStream::Start() {
  started_ = true;
  if (closing_) return Finish(true);  // the server began to stop during the header's write
  std::weak_ptr<LiveStream> weak = shared_from_this();
  net::any_io_executor executor = session_->executor();
  subscription_ = session_->state().hub.Add([weak, executor](const EventBatch& batch) {
    net::post(executor, [weak, batch] {
      if (auto self = weak.lock()) self->OnLive(batch);
    });
  });
  ArmKeepAlive();
  FetchPage();
}

void LiveStream::Close() {
  closing_ = true;
  keep_alive_.cancel();
  if (started_ && !writing_ && !fetching_) Finish(true);
}

void LiveStream::OnLive(const EventBatch& batch) {
  if (closing_) return;
  for (const Event& event : *batch) {
    if (event.position > filter_.after_position && MatchesFilter(filter_, event)) {
      pending_.push_back(event);
    }
  }
  if (pending_.size() > kMaxPending) {
    // Too far behind to buffer: forget the buffer and read the log again from the cursor.
    pending_.clear();
    overflowed_ = true;
    if (mode_ == Mode::kLive) {
      mode_ = Mode::kCatchingUp;
      if (!writing_ && !fetching_) FetchPage();
    }
    return;
  }
  if (mode_ == Mode::kLive && !writing_) Flush();
}

void LiveStream::FetchPage() {
  fetching_ = true;
  overflowed_ = false;  // the page read from now on sees everything committed before it
  net::post(session_->state().pool, [self = shared_from_this()] {
    auto page = self->session_->state().app.store->Query(self->filter_, kPageEvents);
    net::post(self->session_->executor(),
              [self, page = std::move(page)]() mutable { self->OnPage(std::move(page)); });
  });
}

void LiveStream::OnPage(Result<eventstore::Page> page) {
  fetching_ = false;
  if (closing_) return Finish(true);
  if (!page.ok()) {
    spdlog::error("live tail stopped: {}", page.status().ToString());
    return Finish(false);
  }
  std::string chunk;
  for (const Event& event : page->events) {
    if (event.position <= filter_.after_position) continue;
    AppendEvent(chunk, event);
    filter_.after_position = event.position;
  }
  const bool more = page->next_after.has_value() && !page->events.empty();
  if (!more && !overflowed_) mode_ = Mode::kLive;  // the buffer holds everything after the page
  if (chunk.empty()) {
    if (mode_ == Mode::kLive) return Flush();
    return FetchPage();
  }
  Write(std::move(chunk));
}

void LiveStream::Flush() {
  std::string chunk;
  for (const Event& event : pending_) {
    if (event.position <= filter_.after_position) continue;  // sent by the catch-up already
    AppendEvent(chunk, event);
    filter_.after_position = event.position;
  }
  pending_.clear();
  if (!chunk.empty()) Write(std::move(chunk));
}

void LiveStream::Write(std::string chunk) {
  if (!TokenStillLive()) return Finish(true);
  writing_ = true;
  session_->WriteChunk(std::move(chunk),
                       [self = shared_from_this()](auto error) { self->OnWritten(error); });
}

void LiveStream::OnWritten(boost::beast::error_code error) {
  writing_ = false;
  if (error) return Finish(false);
  if (closing_) return Finish(true);
  if (mode_ == Mode::kCatchingUp) {
    if (!fetching_) FetchPage();
    return;
  }
  Flush();
}

void LiveStream::ArmKeepAlive() {
  keep_alive_.expires_after(kKeepAliveEvery);
  keep_alive_.async_wait([weak = std::weak_ptr<LiveStream>(shared_from_this())](auto error) {
    auto self = weak.lock();
    if (error || !self || self->closing_ || self->finished_) return;
    if (!self->writing_ && !self->fetching_ && self->mode_ == Mode::kLive) {
      self->Write(": keep-alive\n\n");
    }
    self->ArmKeepAlive();
  });
}

bool LiveStream::TokenStillLive() {
  const auto now = std::chrono::steady_clock::now();
  if (now - token_checked_ < kTokenCheckEvery) return true;
  token_checked_ = now;
  Result<bool> live = session_->state().app.tokens->IsLive(token_id_);
  if (!live.ok()) {
    spdlog::error("live tail stopped: its token could not be checked: {}",
                  live.status().ToString());
    return false;
  }
  if (!*live) spdlog::info("live tail ended: token {} was revoked", token_id_);
  return *live;
}

void LiveStream::Finish(bool clean) {
  if (finished_) return;
  finished_ = true;
  closing_ = true;  // events the hub posted before the removal below must not be written
  keep_alive_.cancel();
  session_->state().hub.Remove(subscription_);
  subscription_ = 0;
  auto session = session_;
  if (!clean) return session->StreamEnded(false);
  session->WriteLastChunk([session](auto) { session->StreamEnded(false); });
}

}  // namespace custody::server
