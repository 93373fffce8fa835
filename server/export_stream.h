#pragma once

// GET /v1/events with Accept: application/x-ndjson or text/csv: the whole filtered history as
// a chunked body. Reads one page of the log at a time on the worker pool and writes it before
// reading the next, so memory stays bounded whatever the size of the log and however slowly
// the client reads.

#include <memory>
#include <string>

#include "server/http_session.h"

namespace custody::server {

class ExportStream : public SessionStream, public std::enable_shared_from_this<ExportStream> {
 public:
  ExportStream(std::shared_ptr<HttpSession> session, StreamPlan plan);

  void Start() override;
  // An export in flight finishes (the server's stop waits a few seconds, then cuts it).
  void Close() override {}

 private:
  void FetchPage();
  void OnPage(Result<eventstore::Page> page);

  std::shared_ptr<HttpSession> session_;
  StreamPlan plan_;  // plan_.filter.after_position is the cursor
  bool header_row_pending_ = false;
};

}  // namespace custody::server
