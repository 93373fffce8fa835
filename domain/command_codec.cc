#include "domain/command_codec.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "domain/event.h"
#include "domain/strict_json.h"
#include "domain/utf8.h"

namespace custody {
namespace {

namespace json = boost::json;

DecodeError Invalid(const std::string& field, std::string message) {
  return DecodeError{"invalid_field", field, std::move(message)};
}

// Finds a key that names a password, at any depth: such a body is refused whole.
std::optional<std::string> FindSecret(const json::value& value) {
  if (value.is_object()) {
    for (const auto& member : value.get_object()) {
      std::string key(member.key());
      std::transform(key.begin(), key.end(), key.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (key.find("password") != std::string::npos || key.find("passwd") != std::string::npos) {
        return std::string(member.key());
      }
      if (auto nested = FindSecret(member.value())) return nested;
    }
  } else if (value.is_array()) {
    for (const auto& element : value.get_array()) {
      if (auto nested = FindSecret(element)) return nested;
    }
  }
  return std::nullopt;
}

// Reads the fields of one body, remembering which were used so leftovers can be refused.
class Fields {
 public:
  explicit Fields(const json::object& object) : object_(object) {}

  // A required or optional string; nullopt when absent (an error is set if required).
  std::optional<std::string> String(const char* name, bool required) {
    const json::value* value = Take(name);
    if (value == nullptr) {
      if (required) Fail(name, std::string("'") + name + "' is required");
      return std::nullopt;
    }
    if (!value->is_string()) {
      Fail(name, std::string("'") + name + "' must be a string");
      return std::nullopt;
    }
    return std::string(value->get_string());
  }

  std::optional<bool> Bool(const char* name, bool required) {
    const json::value* value = Take(name);
    if (value == nullptr) {
      if (required) Fail(name, std::string("'") + name + "' is required");
      return std::nullopt;
    }
    if (!value->is_bool()) {
      Fail(name, std::string("'") + name + "' must be true or false");
      return std::nullopt;
    }
    return value->get_bool();
  }

  std::optional<std::int64_t> NonNegativeInteger(const char* name) {
    const json::value* value = Take(name);
    if (value == nullptr) return std::nullopt;
    if (value->is_int64() && value->get_int64() >= 0) return value->get_int64();
    if (value->is_uint64() && value->get_uint64() <= INT64_MAX) {
      return static_cast<std::int64_t>(value->get_uint64());
    }
    Fail(name, std::string("'") + name + "' must be a non-negative integer");
    return std::nullopt;
  }

  // A string that must be one of `allowed`.
  std::optional<std::string> OneOf(const char* name, std::initializer_list<const char*> allowed) {
    auto value = String(name, true);
    if (!value) return std::nullopt;
    for (const char* option : allowed) {
      if (*value == option) return value;
    }
    std::string list;
    for (const char* option : allowed) list += (list.empty() ? "" : ", ") + std::string(option);
    Fail(name, std::string("'") + name + "' must be one of: " + list);
    return std::nullopt;
  }

  std::optional<std::string> Id(const char* name) {
    auto value = String(name, true);
    if (value && !IsValidId(*value)) {
      Fail(name, std::string("'") + name +
                     "' must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter "
                     "or digit");
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::string> Email(const char* name) {
    auto value = String(name, true);
    if (value && !IsValidEmail(*value)) {
      Fail(name, std::string("'") + name + "' must be an e-mail address");
      return std::nullopt;
    }
    return value;
  }

  // Fails on the first member nobody asked for.
  void RefuseLeftovers(const std::string& context) {
    for (const auto& member : object_) {
      if (used_.count(std::string(member.key())) == 0) {
        Fail(std::string(member.key()),
             "'" + std::string(member.key()) + "' is not a field of " + context);
        return;
      }
    }
  }

  void Fail(const std::string& field, std::string message) {
    if (!error_) error_ = Invalid(field, std::move(message));
  }
  const std::optional<DecodeError>& error() const { return error_; }

 private:
  const json::value* Take(const char* name) {
    used_.insert(name);
    return object_.if_contains(name);
  }

  const json::object& object_;
  std::set<std::string> used_;
  std::optional<DecodeError> error_;
};

CommandOptions ReadOptions(Fields& fields) {
  CommandOptions options;
  for (const char* name : {"command_id", "correlation_id"}) {
    auto value = fields.String(name, false);
    if (value && (value->empty() || value->size() > kMaxKeyLength || HasControlCharacter(*value))) {
      fields.Fail(name,
                  std::string("'") + name + "' must be 1 to 128 bytes, no control characters");
    }
    (std::string_view(name) == "command_id" ? options.command_id : options.correlation_id) =
        value.value_or("");
  }
  if (auto text = fields.String("occurred_at", false)) {
    options.occurred_at = ParseTime(*text);
    if (!options.occurred_at) {
      fields.Fail("occurred_at",
                  "'occurred_at' must be an RFC 3339 time, e.g. "
                  "2026-11-21T10:00:00.000Z");
    }
  }
  options.expected_version = fields.NonNegativeInteger("expected_version");
  return options;
}

commands::OnboardingStep ReadStep(Fields& fields) {
  commands::OnboardingStep command;
  const auto name = fields.String("step", true);
  if (!name) return command;
  const auto step = StepFromName(*name);
  if (!step || *step == Step::kInvited) {
    fields.Fail("step", "'" + *name + "' is not an onboarding step a member completes");
    return command;
  }
  command.step = *step;
  switch (*step) {
    case Step::kActivateWithSalesforce:
      command.api_enabled = fields.Bool("api_enabled", true);
      break;
    case Step::kSalesforceAllow:
      command.sales_email = fields.Email("sales_email");
      command.salesforce_email = fields.Email("salesforce_email");
      break;
    case Step::kChooseEmailClient:
      command.client = fields.OneOf("client", {"gmail", "outlook"});
      break;
    case Step::kEnterEmail:
      command.email = fields.Email("email");
      break;
    case Step::kSignature:
      // Required: the recorded step says whether a signature was entered or skipped.
      command.skipped = fields.Bool("skipped", true).value_or(false);
      break;
    case Step::kTour:
      command.choice = fields.OneOf("choice", {"viewed", "not_now"});
      break;
    case Step::kLaunch:
      command.target =
          fields.OneOf("target", {"web_app", "salesforce_classic", "salesforce_lightning"});
      break;
    case Step::kMsiPanelOpened:
      command.record = fields.OneOf("record", {"lead", "contact", "account", "opportunity"});
      break;
    default:
      break;
  }
  return command;
}

std::optional<commands::Body> ReadBody(const std::string& name, Fields& fields) {
  if (name == "invite_member") {
    commands::InviteMember command;
    command.member = fields.Id("member").value_or("");
    command.email = fields.Email("email").value_or("");
    command.role = fields.OneOf("role", {"admin", "user"}).value_or("");
    return command;
  }
  if (name == "remove_member") return commands::RemoveMember{fields.Id("member").value_or("")};
  if (name == "connect_marketo") return commands::ConnectMarketo{};
  if (name == "disconnect_marketo") return commands::DisconnectMarketo{};
  if (name == "grant_marketo_access") {
    return commands::GrantMarketoAccess{fields.Id("member").value_or("")};
  }
  if (name == "revoke_marketo_access") {
    return commands::RevokeMarketoAccess{fields.Id("member").value_or("")};
  }
  if (name == "onboarding_step") return ReadStep(fields);
  return std::nullopt;
}

DecodeError SecretNotAllowed(const std::string& field) {
  return DecodeError{"secret_not_allowed", field,
                     "'" + field + "': custody never records a password or other secret"};
}

// Parses `body` as a JSON object and refuses secrets before anything else is looked at.
std::variant<json::object, DecodeError> ParseObject(std::string_view body) {
  boost::system::error_code error;
  json::parse_options limits;
  limits.max_depth = 32;
  // A key given twice is refused: which copy a reader keeps is anyone's guess.
  std::optional<std::string> duplicate;
  json::value value = ParseStrictJson(body, limits, error, &duplicate);
  if (duplicate) {
    // Secrets first all the same: read the body leniently for them.
    boost::system::error_code ignored;
    if (auto secret = FindSecret(json::parse(body, ignored, {}, limits))) {
      return SecretNotAllowed(*secret);
    }
    return Invalid(*duplicate, "'" + *duplicate + "' is given more than once");
  }
  if (error)
    return DecodeError{"invalid_json", "", "the body is not valid JSON: " + error.message()};
  if (!value.is_object()) return DecodeError{"invalid_json", "", "the body must be a JSON object"};
  if (auto secret = FindSecret(value)) return SecretNotAllowed(*secret);
  return std::move(value.get_object());
}

}  // namespace

bool IsValidId(std::string_view id) {
  if (id.empty() || id.size() > 64 || !std::isalnum(static_cast<unsigned char>(id[0]))) {
    return false;
  }
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::string IdProblem(std::string_view id, std::string_view kind) {
  if (IsValidId(id)) return {};
  return "'" + std::string(id) + "' is no " + std::string(kind) +
         " id: 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit";
}

std::string TenantIdProblem(std::string_view tenant) { return IdProblem(tenant, "tenant"); }

std::string MemberIdProblem(std::string_view member) { return IdProblem(member, "member"); }

std::optional<std::string_view> StreamTenant(std::string_view stream) {
  const std::size_t slash = stream.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view tenant = stream.substr(0, slash);
  const std::string_view rest = stream.substr(slash);
  const std::string_view infix = kOnboardingInfix;
  const bool shaped =
      rest == "/instance" || (rest.starts_with(infix) && IsValidId(rest.substr(infix.size())));
  if (!shaped || !IsValidId(tenant)) return std::nullopt;
  return tenant;
}

bool HasEmailShape(std::string_view email) {
  const auto at = email.find('@');
  return email.size() <= 254 && at != std::string_view::npos && at != 0 && at + 1 != email.size() &&
         email.find('@', at + 1) == std::string_view::npos &&
         email.find(' ') == std::string_view::npos;
}

bool IsValidEmail(std::string_view email) {
  return HasEmailShape(email) && !HasControlCharacter(email);
}

std::variant<DecodedCommand, DecodeError> DecodeCommand(std::string_view body) {
  auto parsed = ParseObject(body);
  if (auto* error = std::get_if<DecodeError>(&parsed)) return *error;
  const auto& object = std::get<json::object>(parsed);
  Fields fields(object);

  const auto name = fields.String("command", true);
  if (fields.error()) return *fields.error();
  DecodedCommand decoded;
  decoded.command.actor = fields.Id("actor").value_or("");
  auto command_body = ReadBody(*name, fields);
  if (!command_body) {
    return DecodeError{"unknown_command", "command", "unknown command '" + *name + "'"};
  }
  decoded.command.body = std::move(*command_body);
  decoded.options = ReadOptions(fields);
  fields.RefuseLeftovers("command " + *name);
  if (fields.error()) return *fields.error();
  return decoded;
}

std::variant<DecodedCreateTenant, DecodeError> DecodeCreateTenant(std::string_view body) {
  auto parsed = ParseObject(body);
  if (auto* error = std::get_if<DecodeError>(&parsed)) return *error;
  Fields fields(std::get<json::object>(parsed));
  DecodedCreateTenant decoded;
  decoded.command.tenant = fields.Id("tenant").value_or("");
  decoded.command.admin = fields.Id("admin").value_or("");
  decoded.command.email = fields.Email("email").value_or("");
  decoded.options = ReadOptions(fields);
  fields.RefuseLeftovers("a new tenant");
  if (fields.error()) return *fields.error();
  return decoded;
}

}  // namespace custody
