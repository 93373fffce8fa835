#include "projections/trace.h"

#include <algorithm>

namespace custody::projections {
namespace {

std::string Or(const std::string& text, const char* fallback) {
  return text.empty() ? fallback : text;
}

std::string OwnerOf(const TenantView& view) {
  return view.instance.owner() ? view.instance.owner()->admin : std::string();
}

std::vector<std::string> ConnectedAdmins(const TenantView& view) {
  std::vector<std::string> admins;
  for (const Connection& connection : view.instance.connected) admins.push_back(connection.admin);
  return admins;
}

// "label: + x" for each of `after` not in `before`, "label: - x" for the reverse.
void ListDelta(const char* label, const std::vector<std::string>& before,
               const std::vector<std::string>& after, std::vector<std::string>& out) {
  for (const auto& id : after) {
    if (std::find(before.begin(), before.end(), id) == before.end()) {
      out.push_back(std::string(label) + ": + " + id);
    }
  }
  for (const auto& id : before) {
    if (std::find(after.begin(), after.end(), id) == after.end()) {
      out.push_back(std::string(label) + ": - " + id);
    }
  }
}

void MemberDelta(const TenantView& before, const TenantView& after, std::vector<std::string>& out) {
  for (const auto& [id, record] : after.instance.members) {
    const MemberRecord* old = before.instance.member(id);
    if (old == nullptr) out.push_back("members: + " + id + " (" + record.role + ")");
    if (old != nullptr && !old->removed && record.removed) out.push_back("members: - " + id);
  }
}

void OnboardingDelta(const TenantView& before, const TenantView& after,
                     std::vector<std::string>& out) {
  for (const auto& [member, progress] : after.onboarding) {
    const auto old = before.onboarding.find(member);
    const bool existed = old != before.onboarding.end();
    const OnboardingState& now = progress.aggregate;
    if (existed && old->second.aggregate.done != now.done) {
      out.push_back("onboarding " + member + ": " +
                    std::string(StepName(old->second.aggregate.done)) + " → " +
                    std::string(StepName(now.done)) + (now.completed() ? " (complete)" : ""));
    }
    const std::string was_blocked = existed ? old->second.blocked : std::string();
    if (was_blocked != progress.blocked && !progress.blocked.empty()) {
      out.push_back("onboarding " + member + ": blocked by " + progress.blocked);
    }
  }
}

}  // namespace

std::vector<std::string> DescribeChanges(const TenantView& before, const TenantView& after,
                                         const Event& event) {
  std::vector<std::string> changes;
  if (!before.instance.created && after.instance.created) {
    changes.push_back("tenant: created " + after.instance.tenant);
  }
  MemberDelta(before, after, changes);
  const std::string old_owner = OwnerOf(before);
  const std::string new_owner = OwnerOf(after);
  if (old_owner != new_owner) {
    changes.push_back("owner: " + Or(old_owner, "none") + " → " + Or(new_owner, "none"));
  }
  ListDelta("connected", ConnectedAdmins(before), ConnectedAdmins(after), changes);
  ListDelta("access", before.instance.access, after.instance.access, changes);
  OnboardingDelta(before, after, changes);
  if (event.type == events::CommandRejected::kType) {
    if (auto payload = events::DecodeEvent(event); payload.ok()) {
      const auto& rejected = std::get<events::CommandRejected>(*payload);
      changes.push_back("refused " + rejected.command + ": " + rejected.rule);
    }
  }
  if (event.type == events::OwnershipTransferred::kType && changes.empty()) {
    changes.push_back("recorded: ownership passed to " + event.subject);
  }
  return changes;
}

}  // namespace custody::projections
