#pragma once

// The pure request → response layer: routing, authentication, roles and tenants, parameter
// validation, then one handler. Never touches a socket. Queries read SQLite here, so the session
// calls Route on a worker thread for them; commands only look up their token (and a repeated
// command_id) by index, then queue their append, and are routed on the I/O thread.

#include "server/app.h"
#include "server/metrics.h"
#include "server/request.h"

namespace custody::server {

// What handlers may use. Outlives every request.
struct Context {
  App& app;
  Metrics& metrics;
};

// Answers one request, or defers the answer (Response::deferred) when it waits for the disk.
// Never throws: an unexpected exception becomes a 500 problem.
Response Route(const Request& request, Context& context);

// The same, waiting for a deferred answer: for callers with no event loop (tests, fuzzing).
Response Handle(const Request& request, Context& context);

}  // namespace custody::server
