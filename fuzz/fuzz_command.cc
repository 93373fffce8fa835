// Command bodies: DecodeCommand and DecodeCreateTenant on any bytes, then the domain's decision
// on what they accept. Every accepted command must carry valid identifiers, and every fact the
// domain derives from it must survive its payload codec unchanged. And the strict parser under
// the codec must agree with Boost.JSON's own wherever no key is repeated.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "domain/command_codec.h"
#include "domain/events.h"
#include "domain/instance.h"
#include "domain/onboarding.h"
#include "domain/strict_json.h"
#include "fuzz/check.h"

namespace custody::fuzz {
namespace {

Event Envelope(std::int64_t position, const events::Payload& payload, const std::string& actor) {
  Event event;
  event.position = position;
  event.version = position;
  event.stream = "acme/instance";
  event.tenant = "acme";
  event.type = events::TypeOf(payload);
  event.actor = actor;
  event.occurred_at = 1795255200000 + position;
  event.recorded_at = event.occurred_at;
  event.data = events::EncodeData(payload);
  return event;
}

// acme: alice (admin, connected owner), bob (admin), carol (user, with access).
InstanceState MakeInstance() {
  InstanceState state;
  const events::Payload history[] = {
      events::TenantCreated{"acme"},
      events::MemberInvited{"alice", "alice@acme.test", "admin"},
      events::MemberInvited{"bob", "bob@acme.test", "admin"},
      events::MemberInvited{"carol", "carol@acme.test", "user"},
      events::MarketoConnected{"alice"},
      events::AccessGranted{"carol", "alice"},
  };
  std::int64_t position = 0;
  for (const events::Payload& payload : history) {
    Evolve(state, Envelope(++position, payload, "alice"), payload);
  }
  return state;
}

// Each fact's payload is encoded, decoded and encoded again to the same bytes.
void CheckDecision(const Decision& decision) {
  if (const auto* refusal = std::get_if<Refusal>(&decision)) {
    Check(!refusal->rule.empty(), "a refusal names its rule");
    return;
  }
  for (const Fact& fact : std::get<std::vector<Fact>>(decision)) {
    const std::string data = events::EncodeData(fact.payload);
    auto decoded = events::DecodeData(events::TypeOf(fact.payload), data, kEventFormat);
    Check(decoded.ok(), "a decided fact decodes");
    Check(events::EncodeData(*decoded) == data, "a decided fact round-trips");
  }
}

void CheckOptions(const CommandOptions& options) {
  for (const std::string* key : {&options.command_id, &options.correlation_id}) {
    Check(key->size() <= 128, "keys are at most 128 bytes");
    for (char c : *key) Check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "no control");
  }
  if (options.expected_version) Check(*options.expected_version >= 0, "versions are >= 0");
}

// ParseStrictJson is json::parse plus the repeated-key check: same value, same verdict.
void CheckStrictParser(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = 32;
  boost::system::error_code strict_error, error;
  std::optional<std::string> duplicate;
  const boost::json::value strict = ParseStrictJson(text, options, strict_error, &duplicate);
  const boost::json::value lenient = boost::json::parse(text, error, {}, options);
  if (duplicate) {
    Check(static_cast<bool>(strict_error), "a repeated key is an error");
    return;
  }
  Check(static_cast<bool>(strict_error) == static_cast<bool>(error), "same verdict");
  // Compared as text: Boost.JSON 1.81 reads 0e400 as NaN, which equals nothing, not even
  // itself. (custody refuses every floating-point number anyway.)
  Check(boost::json::serialize(strict) == boost::json::serialize(lenient), "same value");
}

void CheckError(const DecodeError& error) {
  Check(error.code == "invalid_json" || error.code == "invalid_field" ||
            error.code == "unknown_command" || error.code == "secret_not_allowed",
        "a known error code");
  Check(!error.message.empty(), "errors say why");
}

}  // namespace
}  // namespace custody::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace custody;
  static const InstanceState instance = fuzz::MakeInstance();
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  fuzz::CheckStrictParser(body);

  auto command = DecodeCommand(body);
  if (const auto* error = std::get_if<DecodeError>(&command)) {
    fuzz::CheckError(*error);
  } else {
    const DecodedCommand& decoded = std::get<DecodedCommand>(command);
    fuzz::Check(IsValidId(decoded.command.actor), "the actor is a valid id");
    fuzz::CheckOptions(decoded.options);
    if (const auto* step = std::get_if<commands::OnboardingStep>(&decoded.command.body)) {
      fuzz::CheckDecision(
          DecideOnboarding(instance, OnboardingState{}, decoded.command.actor, *step));
    } else {
      fuzz::CheckDecision(DecideInstance(instance, decoded.command));
    }
  }

  auto tenant = DecodeCreateTenant(body);
  if (const auto* error = std::get_if<DecodeError>(&tenant)) {
    fuzz::CheckError(*error);
  } else {
    const DecodedCreateTenant& decoded = std::get<DecodedCreateTenant>(tenant);
    fuzz::Check(IsValidId(decoded.command.tenant) && IsValidId(decoded.command.admin),
                "tenant and admin are valid ids");
    fuzz::Check(IsValidEmail(decoded.command.email), "the email is valid");
    fuzz::CheckOptions(decoded.options);
    fuzz::CheckDecision(DecideCreateTenant(InstanceState{}, decoded.command));
    fuzz::CheckDecision(DecideCreateTenant(instance, decoded.command));
  }
  return 0;
}
