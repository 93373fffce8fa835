#pragma once

// RFC 9457 problem documents: every error of every route is one. The `type` is a stable URI
// per code, https://custody.dev/problems/{code}; `code` and the other members are extensions.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "domain/status.h"
#include "server/request.h"

namespace custody::server {

inline constexpr char kProblemTypeBase[] = "https://custody.dev/problems/";
inline constexpr char kProblemContentType[] = "application/problem+json";
inline constexpr char kJsonContentType[] = "application/json";

// A problem response for `request` (its path becomes `instance`). `extensions` are added as
// top-level members after the standard ones.
Response Problem(const Request& request, int status, std::string_view code, std::string detail,
                 boost::json::object extensions = {});

// The same without a request (errors detected before a request exists, e.g. a body too large).
Response Problem(std::string_view instance, int status, std::string_view code, std::string detail,
                 boost::json::object extensions = {});

// A storage failure: 503 storage_unavailable for kFull, kIOError and kBusy (retrying later may
// work), 500 internal_error for anything else.
Response StorageProblem(const Request& request, const Status& status);
Response StorageProblem(std::string_view instance, const Status& status);

// 500 internal_error: the server failed in a way the client can do nothing about.
Response InternalError(std::string_view instance);

// A JSON body answer.
Response JsonResponse(int status, std::string body);

}  // namespace custody::server
