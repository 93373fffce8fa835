#include "projections/tenant_view.h"

#include <string_view>

namespace custody::projections {
namespace {

bool IsOnboardingStream(const Event& event) {
  return event.stream.size() > event.tenant.size() &&
         std::string_view(event.stream).substr(event.tenant.size(), kOnboardingInfix.size()) ==
             kOnboardingInfix;
}

std::string OwnerOf(const InstanceState& instance) {
  return instance.owner() ? instance.owner()->admin : std::string();
}

void ApplyInstance(TenantView& view, const Event& event, const events::Payload& payload) {
  const std::string owner_before = OwnerOf(view.instance);
  Evolve(view.instance, event, payload);
  const std::string owner_after = OwnerOf(view.instance);

  // A custody period changes exactly when the state's owner does, so the chain and the
  // state agree at every position (even between the events of one disconnection).
  if (owner_before != owner_after) {
    if (!owner_before.empty() && !view.custody.empty()) {
      CustodyPeriod& period = view.custody.back();
      period.to = event.occurred_at;
      period.to_position = event.position;
      period.ended_by = owner_after.empty() ? "integration_down" : "ownership_transferred";
    }
    if (!owner_after.empty()) {
      view.custody.push_back(CustodyPeriod{owner_after, event.occurred_at, std::nullopt,
                                           event.position, std::nullopt, ""});
    }
  }
  if (const auto* invited = std::get_if<events::MemberInvited>(&payload)) {
    OnboardingProgress& progress = view.onboarding[invited->member];
    progress.step_times[0] = event.occurred_at;
    progress.updated_at = event.occurred_at;
    progress.blocked.clear();  // refusals from before the invitation block nothing now
  } else if (const auto* removed = std::get_if<events::MemberRemoved>(&payload)) {
    view.onboarding[removed->member].updated_at = event.occurred_at;
  }
}

void ApplyOnboarding(TenantView& view, const Event& event, const events::Payload& payload) {
  const std::string_view member =
      std::string_view(event.stream).substr(event.tenant.size() + kOnboardingInfix.size());
  // Attempts by people who were never invited are tracked too (their stream has a version);
  // the answers list members only.
  auto found = view.onboarding.lower_bound(member);
  if (found == view.onboarding.end() || found->first != member) {
    found = view.onboarding.emplace_hint(found, std::string(member), OnboardingProgress{});
  }
  OnboardingProgress& progress = found->second;
  Evolve(progress.aggregate, event, payload);
  progress.updated_at = event.occurred_at;
  if (std::holds_alternative<events::StepCompleted>(payload)) {
    progress.step_times[static_cast<int>(progress.aggregate.done)] = event.occurred_at;
    progress.blocked.clear();
  } else if (const auto* rejected = std::get_if<events::CommandRejected>(&payload)) {
    // A step tried after the last one is refused, but blocks nothing: the member is done.
    if (!progress.aggregate.completed()) progress.blocked = rejected->rule;
  }
}

}  // namespace

void Apply(TenantView& view, const Event& event, const events::Payload& payload) {
  if (IsOnboardingStream(event)) {
    ApplyOnboarding(view, event, payload);
  } else {
    ApplyInstance(view, event, payload);
  }
  view.last_position = event.position;
}

}  // namespace custody::projections
