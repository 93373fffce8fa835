#pragma once

// The onboarding aggregate of one member: which step they have done, and which e-mail client
// they chose. Pure: decide and evolve only.

#include <cstdint>
#include <string>

#include "domain/commands.h"
#include "domain/decision.h"
#include "domain/event.h"
#include "domain/events.h"
#include "domain/instance.h"
#include "domain/onboarding_steps.h"

namespace custody {

struct OnboardingState {
  Step done = Step::kInvited;  // the last step completed
  std::string client;          // "gmail", "outlook", or empty before choose_email_client
  std::int64_t version = 0;    // of the member's onboarding stream

  bool completed() const { return done == kLastStep; }
  template <class A>
  void serialize(A& a) {
    a(done, client, version);
  }
  bool operator==(const OnboardingState&) const = default;
};

// Applies one event of the member's onboarding stream.
void Evolve(OnboardingState& state, const Event& event, const events::Payload& payload);

// Decides the actor's onboarding step. `instance` says whether the actor is a member and
// still in the instance.
Decision DecideOnboarding(const InstanceState& instance, const OnboardingState& state,
                          const std::string& actor, const commands::OnboardingStep& command);

}  // namespace custody
