// POST /v1/tenants and POST /v1/tenants/{tenant}/commands: decode, execute, answer.

#include <string_view>

#include <boost/beast/core/string.hpp>

#include "domain/command_codec.h"
#include "server/event_json.h"
#include "server/handlers.h"
#include "server/problem.h"

namespace custody::server {
namespace {

namespace beast = boost::beast;
namespace json = boost::json;
using projections::CommandReply;
using projections::CommandService;

constexpr std::size_t kMaxUserAgent = 256;

// `application/json`, in any case, with parameters; JSON is UTF-8 (RFC 8259), so a charset
// parameter naming anything else is refused rather than decoded as UTF-8 anyway.
bool IsJsonContentType(std::string_view value) {
  const std::size_t semicolon = value.find(';');
  if (!beast::iequals(TrimOws(value.substr(0, semicolon)), "application/json")) return false;
  if (semicolon == std::string_view::npos) return true;
  bool utf8 = true;
  ForEachMediaParameter(
      value.substr(semicolon + 1), [&utf8](std::string_view name, std::string_view charset) {
        if (!beast::iequals(TrimOws(name), "charset")) return true;
        charset = TrimOws(charset);
        if (charset.size() >= 2 && charset.front() == '"' && charset.back() == '"') {
          charset = charset.substr(1, charset.size() - 2);
        }
        utf8 = beast::iequals(charset, "utf-8") || beast::iequals(charset, "utf8");
        return utf8;
      });
  return utf8;
}

// The user agent goes into every event for ever: printable ASCII only, and not too long.
std::string CleanUserAgent(std::string_view agent) {
  std::string out;
  for (char c : agent.substr(0, kMaxUserAgent)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

// The token is the authenticated part of the source: ip and user agent are what the client
// says, the token's id is who the server let in.
Source SourceOf(const Call& call) {
  return Source{call.request.peer_ip, CleanUserAgent(call.request.user_agent),
                call.principal->token_id};
}

Response DecodeProblem(const Call& call, const DecodeError& error) {
  call.context.metrics.CountCommand("invalid");
  json::object extensions;
  // Always named for these codes, even when the field is the empty key "".
  if (error.code == "invalid_field" || error.code == "secret_not_allowed") {
    extensions["field"] = error.field;
  }
  return Problem(call.request, 400, error.code, error.message, std::move(extensions));
}

// What the answer to a command needs once the command service has its reply: the request's
// path, the tenant and the metrics. The request itself is gone by then.
struct Answerer {
  std::string instance;
  std::string tenant;
  Metrics* metrics;

  Response operator()(const Result<CommandReply>& result) const;
};

Response Answerer::operator()(const Result<CommandReply>& result) const {
  if (!result.ok()) {
    metrics->CountCommand("error");
    return StorageProblem(instance, result.status());
  }
  const CommandReply& reply = *result;
  switch (reply.kind) {
    case CommandReply::Kind::kRecorded:
      metrics->CountCommand(reply.duplicate ? "duplicate" : "recorded");
      return JsonResponse(reply.duplicate ? 200 : 201, CommandBody(reply.events, reply.position));
    case CommandReply::Kind::kRejected: {
      metrics->CountCommand(reply.duplicate ? "duplicate" : "rejected");
      const Refusal refusal = reply.refusal.value_or(Refusal{});
      json::object extensions{{"rule", refusal.rule}};
      if (!refusal.member.empty()) extensions["member"] = refusal.member;
      if (refusal.expected_step) extensions["expected_step"] = *refusal.expected_step;
      extensions["events"] = EventsArray(reply.events);
      extensions["position"] = reply.position;
      return Problem(instance, 409, "rule_violation", refusal.message, std::move(extensions));
    }
    case CommandReply::Kind::kVersionConflict:
      metrics->CountCommand("conflict");
      return Problem(instance, 412, "version_conflict",
                     "expected_version " + std::to_string(reply.expected_version) +
                         " does not match the stream's version " +
                         std::to_string(reply.actual_version),
                     {{"expected", reply.expected_version}, {"actual", reply.actual_version}});
    case CommandReply::Kind::kTenantNotFound:
      metrics->CountCommand("not_found");
      return Problem(instance, 404, "not_found", "no such tenant: " + tenant);
  }
  return InternalError(instance);
}

std::optional<Response> CheckContentType(const Call& call) {
  if (IsJsonContentType(call.request.content_type)) return std::nullopt;
  call.context.metrics.CountCommand("invalid");
  return Problem(call.request, 415, "unsupported_media_type",
                 "the body must be sent with Content-Type: application/json");
}

// The answer comes when `run` hands the command service's reply over, on the thread that
// completes the command (no thread waits for the disk); it is rendered where it is sent.
template <typename Run>
Response Deferred(const Call& call, Run run) {
  Response response;
  response.deferred = [run = std::move(run),
                       answer = Answerer{PathOf(call.request.target), call.tenant,
                                         &call.context.metrics}](Respond respond) mutable {
    run([answer, respond = std::move(respond)](Result<CommandReply> reply) {
      respond([answer, reply = std::move(reply)] { return answer(reply); });
    });
  };
  return response;
}

}  // namespace

Response HandleCreateTenant(const Call& call) {
  if (auto refused = CheckContentType(call)) return *refused;
  auto decoded = DecodeCreateTenant(call.request.body);
  if (const auto* error = std::get_if<DecodeError>(&decoded)) return DecodeProblem(call, *error);
  // The actor of a tenant's creation is the operator token's public id: unique and listed by
  // `custody token list`, unlike its free-form name.
  return Deferred(call, [&commands = *call.context.app.commands,
                         command = std::get<DecodedCreateTenant>(std::move(decoded)),
                         actor = call.principal->token_id,
                         source = SourceOf(call)](CommandService::Done done) mutable {
    commands.CreateTenantAsync(std::move(command), std::move(actor), std::move(source),
                               std::move(done));
  });
}

Response HandleCommand(const Call& call) {
  if (auto refused = CheckContentType(call)) return *refused;
  auto decoded = DecodeCommand(call.request.body);
  if (const auto* error = std::get_if<DecodeError>(&decoded)) return DecodeProblem(call, *error);
  return Deferred(call, [&commands = *call.context.app.commands, tenant = call.tenant,
                         command = std::get<DecodedCommand>(std::move(decoded)),
                         source = SourceOf(call)](CommandService::Done done) mutable {
    commands.ExecuteAsync(tenant, std::move(command), std::move(source), std::move(done));
  });
}

}  // namespace custody::server
