#pragma once

// What deciding a command yields: the facts to record, or a refusal naming the rule.

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "domain/events.h"

namespace custody {

// One fact to record; the command's actor is its actor.
struct Fact {
  events::Payload payload;
  std::string subject;  // whom the fact is about
};

// A rule refused the command. Refusals are recorded too (command.rejected).
struct Refusal {
  std::string rule;     // a rule code of API.md, e.g. "access_must_be_revoked_first"
  std::string message;  // for people: the rule and the missing step of the procedure
  std::string member;   // whom the command was about
  std::optional<std::string> expected_step;  // onboarding: the step expected next
};

using Decision = std::variant<std::vector<Fact>, Refusal>;

inline bool IsRefusal(const Decision& decision) {
  return std::holds_alternative<Refusal>(decision);
}

}  // namespace custody
