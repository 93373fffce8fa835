#include "domain/onboarding.h"

#include "domain/utf8.h"

namespace custody {
namespace {

Refusal Refuse(const std::string& rule, std::string message, const std::string& actor,
               std::optional<Step> expected) {
  Refusal refusal{rule, std::move(message), actor, std::nullopt};
  if (expected) refusal.expected_step = std::string(StepName(*expected));
  return refusal;
}

events::StepCompleted Completion(const std::string& actor, const commands::OnboardingStep& c) {
  return events::StepCompleted{actor,
                               std::string(StepName(c.step)),
                               c.api_enabled,
                               c.sales_email,
                               c.salesforce_email,
                               c.client,
                               c.email,
                               c.skipped,
                               c.choice,
                               c.target,
                               c.record};
}

}  // namespace

void Evolve(OnboardingState& state, const Event& event, const events::Payload& payload) {
  state.version = event.version;
  if (const auto* step = std::get_if<events::StepCompleted>(&payload)) {
    if (const auto parsed = StepFromName(step->step)) state.done = *parsed;
    if (step->client) state.client = *step->client;
  }
}

Decision DecideOnboarding(const InstanceState& instance, const OnboardingState& state,
                          const std::string& actor, const commands::OnboardingStep& command) {
  const std::string step(StepName(command.step));
  const MemberRecord* member = instance.member(actor);
  if (member == nullptr) {
    return Refuse("unknown_member",
                  "'" + actor + "' was never invited: an admin must invite them first", actor,
                  std::nullopt);
  }
  if (member->removed) {  // no step is expected of them any more
    return Refuse("member_removed",
                  "'" + actor + "' was removed from the instance and cannot continue onboarding",
                  actor, std::nullopt);
  }
  const std::optional<Step> expected = NextStep(state.done, state.client);
  if (!expected) {
    return Refuse("step_out_of_order", "'" + actor + "' has already completed onboarding", actor,
                  std::nullopt);
  }
  if (command.step == Step::kOutlookAuthenticated && !state.client.empty() &&
      state.client != "outlook") {
    return Refuse("not_for_this_client",
                  "outlook_authenticated is Outlook's own sign-in screen; '" + actor + "' chose " +
                      state.client,
                  actor, expected);
  }
  if (command.step != *expected) {
    return Refuse("step_out_of_order",
                  step + " is out of order: the next step for '" + actor + "' is " +
                      std::string(StepName(*expected)),
                  actor, expected);
  }
  if (command.step == Step::kActivateWithSalesforce && command.api_enabled != true) {
    return Refuse("api_not_enabled",
                  "the Salesforce profile of '" + actor +
                      "' lacks the API Enabled permission needed to activate with Salesforce",
                  actor, expected);
  }
  if (command.step == Step::kSalesforceAllow &&
      !EqualIgnoringCase(command.sales_email.value_or(""), command.salesforce_email.value_or(""))) {
    return Refuse(
        "email_mismatch",
        "the sales account e-mail and the Salesforce e-mail of '" + actor + "' must be identical",
        actor, expected);
  }
  return std::vector<Fact>{{Completion(actor, command), actor}};
}

}  // namespace custody
