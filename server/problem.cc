#include "server/problem.h"

#include <spdlog/spdlog.h>
#include <boost/json/serialize.hpp>

#include "domain/utf8.h"

namespace custody::server {
namespace {

namespace json = boost::json;

std::string_view TitleOf(std::string_view code) {
  static constexpr std::pair<std::string_view, std::string_view> kTitles[] = {
      {"invalid_json", "Body is not valid JSON"},
      {"invalid_field", "Invalid field"},
      {"unknown_command", "Unknown command"},
      {"secret_not_allowed", "Secrets are never recorded"},
      {"invalid_request", "Malformed request"},
      {"unauthenticated", "Authentication required"},
      {"forbidden", "Forbidden"},
      {"not_found", "Not found"},
      {"method_not_allowed", "Method not allowed"},
      {"rule_violation", "Refused by a rule"},
      {"version_conflict", "Version conflict"},
      {"body_too_large", "Body too large"},
      {"unsupported_media_type", "Unsupported media type"},
      {"headers_too_large", "Request header fields too large"},
      {"http_version_not_supported", "HTTP version not supported"},
      {"storage_unavailable", "Storage unavailable"},
      {"too_many_connections", "Too many connections"},
      {"shutting_down", "Server shutting down"},
      {"internal_error", "Internal error"},
  };
  for (const auto& [known, title] : kTitles) {
    if (known == code) return title;
  }
  return "Error";
}

}  // namespace

Response Problem(std::string_view instance, int status, std::string_view code, std::string detail,
                 json::object extensions) {
  // Problems quote what the client sent (a path, a parameter's name, a tenant from the URL),
  // which may be any bytes once percent-decoded; a JSON document must be UTF-8.
  json::object body{
      {"type", std::string(kProblemTypeBase) + std::string(code)},
      {"title", TitleOf(code)},
      {"status", status},
      {"detail", ToValidUtf8(detail)},
      {"code", code},
      {"instance", ToValidUtf8(instance)},
  };
  for (auto& member : extensions) {
    json::value& value = body[member.key()] = std::move(member.value());
    if (value.is_string()) value = ToValidUtf8(value.get_string());
  }
  Response response;
  response.status = status;
  response.content_type = kProblemContentType;
  response.body = json::serialize(body);
  return response;
}

Response Problem(const Request& request, int status, std::string_view code, std::string detail,
                 json::object extensions) {
  return Problem(PathOf(request.target), status, code, std::move(detail), std::move(extensions));
}

Response StorageProblem(const Request& request, const Status& status) {
  return StorageProblem(PathOf(request.target), status);
}

Response StorageProblem(std::string_view instance, const Status& status) {
  switch (status.code()) {
    case Status::Code::kFull:
    case Status::Code::kIOError:
    case Status::Code::kBusy: {
      spdlog::warn("storage unavailable: {}", status.ToString());
      Response response = Problem(instance, 503, "storage_unavailable",
                                  "the event store cannot serve this now; retry later");
      response.headers.emplace_back("Retry-After", "1");
      return response;
    }
    default:
      spdlog::error("storage error: {}", status.ToString());
      return InternalError(instance);
  }
}

Response InternalError(std::string_view instance) {
  return Problem(instance, 500, "internal_error", "the server failed to answer");
}

Response JsonResponse(int status, std::string body) {
  Response response;
  response.status = status;
  response.content_type = kJsonContentType;
  response.body = std::move(body);
  return response;
}

}  // namespace custody::server
