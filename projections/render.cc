#include "projections/render.h"

namespace custody::projections {
namespace {

namespace json = boost::json;

json::value TimeOrNull(const std::optional<TimeMs>& time) {
  return time ? json::value(FormatTime(*time)) : json::value(nullptr);
}

json::value StringOrNull(const std::string& text) {
  return text.empty() ? json::value(nullptr) : json::value(text);
}

json::object Progress(const std::string& member, const OnboardingProgress& progress,
                      const InstanceState& instance) {
  const OnboardingState& state = progress.aggregate;
  const auto next = NextStep(state.done, state.client);
  const MemberRecord* record = instance.member(member);
  const bool removed = record != nullptr && record->removed;  // can do no further step
  return json::object{
      {"member", member},
      {"step", std::string(StepName(state.done))},
      {"next_step",
       next && !removed ? json::value(std::string(StepName(*next))) : json::value(nullptr)},
      {"completed", state.completed()},
      {"blocked", StringOrNull(progress.blocked)},
      {"updated_at", FormatTime(progress.updated_at)},
      {"client", StringOrNull(state.client)},
      {"removed", removed},
  };
}

}  // namespace

json::value RenderMarketo(const TenantView& view, std::int64_t as_of) {
  const InstanceState& instance = view.instance;
  json::array connected;
  for (const Connection& connection : instance.connected) connected.emplace_back(connection.admin);
  json::array access;
  for (const std::string& member : instance.access) access.emplace_back(member);
  json::value owner = nullptr;
  if (const Connection* current = instance.owner()) {
    // Owner since the custody period began (an admin who connected as a standby became owner
    // later, when the owner before left), as the custody chain says.
    TimeMs since = current->since;
    if (!view.custody.empty() && !view.custody.back().to &&
        view.custody.back().owner == current->admin) {
      since = view.custody.back().from;
    }
    owner = json::object{{"member", current->admin}, {"since", FormatTime(since)}};
  }
  return json::object{
      {"state", instance.connected.empty() ? "disconnected" : "connected"},
      {"owner", std::move(owner)},
      {"connected_admins", std::move(connected)},
      {"access", std::move(access)},
      {"as_of", as_of},
  };
}

json::value RenderCustody(const TenantView& view) {
  json::array periods;
  for (const CustodyPeriod& period : view.custody) {
    periods.push_back(json::object{
        {"owner", period.owner},
        {"from", FormatTime(period.from)},
        {"to", TimeOrNull(period.to)},
        {"from_position", period.from_position},
        {"to_position",
         period.to_position ? json::value(*period.to_position) : json::value(nullptr)},
        {"ended_by", StringOrNull(period.ended_by)},
    });
  }
  return periods;
}

json::value RenderRemovalCheck(const TenantView& view, const std::string& member) {
  const RemovalCheck check = CheckRemoval(view.instance, member);
  json::array steps;
  for (const HandoverStep& step : check.remaining_steps) {
    steps.push_back(json::object{
        {"command", step.command},
        {"actor", StringOrNull(step.actor)},
        {"member", StringOrNull(step.member)},
        {"description", step.description},
    });
  }
  return json::object{
      {"member", member},
      {"safe", check.safe},
      {"reason", check.reason},
      {"rule", StringOrNull(check.rule)},
      {"remaining_steps", std::move(steps)},
  };
}

json::value RenderOnboardingList(const TenantView& view) {
  json::array members;
  for (const auto& [member, progress] : view.onboarding) {
    if (view.instance.member(member) == nullptr) continue;
    members.push_back(Progress(member, progress, view.instance));
  }
  return members;
}

json::value RenderOnboardingMember(const TenantView& view, const std::string& member) {
  const OnboardingProgress& progress = view.onboarding.at(member);
  json::object answer = Progress(member, progress, view.instance);
  json::array steps;
  for (int i = 0; i < kStepCount; ++i) {
    if (!progress.step_times[i]) continue;
    steps.push_back(json::object{{"step", std::string(StepName(static_cast<Step>(i)))},
                                 {"at", FormatTime(*progress.step_times[i])}});
  }
  answer["steps"] = std::move(steps);
  return answer;
}

json::value RenderFunnel(const TenantView& view) {
  json::array funnel;
  for (int i = 0; i < kStepCount; ++i) {
    std::int64_t reached = 0;
    for (const auto& [member, progress] : view.onboarding) {
      if (progress.step_times[i] && view.instance.member(member) != nullptr) ++reached;
    }
    funnel.push_back(
        json::object{{"step", std::string(StepName(static_cast<Step>(i)))}, {"reached", reached}});
  }
  return funnel;
}

json::value RenderTenant(const std::string& tenant, const TenantView& view, std::int64_t as_of) {
  json::array members;
  for (const auto& [id, record] : view.instance.members) {
    members.push_back(json::object{{"member", id},
                                   {"email", record.email},
                                   {"role", record.role},
                                   {"removed", record.removed}});
  }
  return json::object{
      {"tenant", tenant},
      {"members", std::move(members)},
      {"marketo", RenderMarketo(view, as_of)},
      {"custody", RenderCustody(view)},
      {"onboarding", RenderOnboardingList(view)},
      {"last_position", view.last_position},
  };
}

}  // namespace custody::projections
