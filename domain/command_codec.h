#pragma once

// Turns a command's JSON body into a typed command, validating every field. The codes are
// those of API.md: invalid_json, invalid_field (with the field), unknown_command,
// secret_not_allowed. Nothing here knows HTTP.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "domain/commands.h"
#include "domain/time.h"

namespace custody {

// The longest command_id or correlation_id, in bytes.
inline constexpr std::size_t kMaxKeyLength = 128;

// The optional members every command may carry.
struct CommandOptions {
  std::string command_id;      // idempotency key; empty: none
  std::string correlation_id;  // empty: none
  std::optional<TimeMs> occurred_at;
  std::optional<std::int64_t> expected_version;
};

struct DecodedCommand {
  commands::Command command;
  CommandOptions options;
};

struct DecodedCreateTenant {
  commands::CreateTenant command;
  CommandOptions options;
};

struct DecodeError {
  std::string code;   // invalid_json | invalid_field | unknown_command | secret_not_allowed
  std::string field;  // for invalid_field and secret_not_allowed
  std::string message;
};

// Decodes POST /v1/tenants/{t}/commands.
std::variant<DecodedCommand, DecodeError> DecodeCommand(std::string_view body);
// Decodes POST /v1/tenants: {"tenant", "admin", "email"}.
std::variant<DecodedCreateTenant, DecodeError> DecodeCreateTenant(std::string_view body);

// Identifiers of tenants and members: 1 to 64 of [A-Za-z0-9._-], starting with a letter or
// digit (they appear in stream names and URLs).
bool IsValidId(std::string_view id);
// What is wrong with `id` as an id of its `kind` ("actor"), for a message; empty when it is one.
std::string IdProblem(std::string_view id, std::string_view kind);
// What is wrong with `tenant` as a tenant id, for a message; empty when it is one.
std::string TenantIdProblem(std::string_view tenant);
// The same for a member id.
std::string MemberIdProblem(std::string_view member);
// The tenant of a stream name of the log's two shapes, "{tenant}/instance" and
// "{tenant}/onboarding/{member}" with valid ids; nullopt for any other text.
std::optional<std::string_view> StreamTenant(std::string_view stream);
// One '@' with text on both sides, at most 254 bytes, no space: an e-mail's shape.
bool HasEmailShape(std::string_view email);
// A plausible e-mail address: that shape, and no control character.
bool IsValidEmail(std::string_view email);

}  // namespace custody
