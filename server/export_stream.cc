#include "server/export_stream.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "eventstore/event_format.h"

namespace custody::server {
namespace {

namespace net = boost::asio;

constexpr std::size_t kPageEvents = 500;

}  // namespace

ExportStream::ExportStream(std::shared_ptr<HttpSession> session, StreamPlan plan)
    : session_(std::move(session)), plan_(std::move(plan)) {
  header_row_pending_ = plan_.kind == StreamPlan::Kind::kCsv;
}

void ExportStream::Start() { FetchPage(); }

void ExportStream::FetchPage() {
  net::post(session_->state().pool, [self = shared_from_this()] {
    auto page = self->session_->state().app.store->Query(self->plan_.filter, kPageEvents);
    net::post(self->session_->executor(),
              [self, page = std::move(page)]() mutable { self->OnPage(std::move(page)); });
  });
}

void ExportStream::OnPage(Result<eventstore::Page> page) {
  if (!page.ok()) {
    // The status is sent already: cutting the chunked body short tells the client.
    spdlog::error("export stopped: {}", page.status().ToString());
    return session_->StreamEnded(false);
  }
  std::string chunk;
  if (header_row_pending_) {
    chunk = eventstore::EventCsvHeader();
    header_row_pending_ = false;
  }
  for (const Event& event : page->events) {
    if (plan_.kind == StreamPlan::Kind::kCsv) {
      chunk += eventstore::EventToCsvRow(event);
    } else {
      chunk += eventstore::EventToJson(event);
      chunk.push_back('\n');
    }
    plan_.filter.after_position = event.position;
  }
  const bool more = page->next_after.has_value() && !page->events.empty();
  session_->WriteChunk(std::move(chunk), [self = shared_from_this(), more](auto error) {
    if (error) return self->session_->StreamEnded(false);
    if (more) return self->FetchPage();
    self->session_->WriteLastChunk([self](auto error) {
      auto session = std::move(self->session_);
      session->StreamEnded(!error);
    });
  });
}

}  // namespace custody::server
