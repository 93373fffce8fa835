#include "domain/instance.h"

#include <algorithm>

namespace custody {
namespace {

using events::Payload;

template <class T>
bool Contains(const std::vector<T>& values, const std::string& id) {
  return std::find(values.begin(), values.end(), id) != values.end();
}

void Erase(std::vector<std::string>& values, const std::string& id) {
  values.erase(std::remove(values.begin(), values.end(), id), values.end());
}

Refusal Refuse(std::string rule, std::string message, std::string member) {
  return Refusal{std::move(rule), std::move(message), std::move(member), std::nullopt};
}

// The checks every instance command makes of its actor. `need_admin`: only admins may do it.
std::optional<Refusal> CheckActor(const InstanceState& state, const std::string& actor,
                                  const char* command, bool need_admin) {
  const MemberRecord* record = state.member(actor);
  if (record == nullptr) {
    return Refuse("unknown_member", "'" + actor + "' is not a member of this instance", actor);
  }
  if (record->removed) {
    return Refuse("member_removed", "'" + actor + "' was removed from this instance", actor);
  }
  if (need_admin && !record->is_admin()) {
    return Refuse("not_an_admin",
                  std::string("only an admin can ") + command + "; '" + actor + "' is a user",
                  actor);
  }
  return std::nullopt;
}

// The target of a command must be a current member.
std::optional<Refusal> CheckTarget(const InstanceState& state, const std::string& member) {
  const MemberRecord* record = state.member(member);
  if (record == nullptr) {
    return Refuse("unknown_member", "'" + member + "' is not a member of this instance", member);
  }
  if (record->removed) {
    return Refuse("member_removed", "'" + member + "' was removed from this instance", member);
  }
  return std::nullopt;
}

std::string StepsSentence(const std::vector<HandoverStep>& steps) {
  std::string sentence;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    sentence += (i == 0 ? "" : " ") + std::to_string(i + 1) + ". " + steps[i].description;
  }
  return sentence;
}

// The connected admins who take over, in order, once `admin` is gone.
std::vector<Fact> Disconnection(const InstanceState& state, const std::string& admin) {
  std::vector<Fact> facts{{events::MarketoDisconnected{admin}, admin}};
  const bool is_owner = state.owner() != nullptr && state.owner()->admin == admin;
  if (state.connected.size() > 1) {
    if (is_owner) {
      const std::string& heir = state.connected[1].admin;
      facts.push_back({events::OwnershipTransferred{admin, heir}, heir});
    }
  } else {
    // The last connection ends: everyone who used it through granted access is cut off.
    facts.push_back({events::IntegrationDown{admin, state.access}, admin});
  }
  return facts;
}

Decision Decide(const InstanceState& state, const std::string& actor,
                const commands::InviteMember& command) {
  if (auto refusal = CheckActor(state, actor, "invite members", true)) return *refusal;
  if (const MemberRecord* existing = state.member(command.member)) {
    return Refuse("member_exists",
                  "'" + command.member + "' is already a member" +
                      (existing->removed ? " (removed; member ids are never reused)" : ""),
                  command.member);
  }
  return std::vector<Fact>{
      {events::MemberInvited{command.member, command.email, command.role}, command.member}};
}

Decision Decide(const InstanceState& state, const std::string& actor,
                const commands::RemoveMember& command) {
  if (auto refusal = CheckActor(state, actor, "remove members", true)) return *refusal;
  if (auto refusal = CheckTarget(state, command.member)) return *refusal;
  const RemovalCheck check = CheckRemoval(state, command.member);
  if (!check.safe) {
    return Refuse(check.rule,
                  check.reason + " Handover first: " + StepsSentence(check.remaining_steps),
                  command.member);
  }
  std::vector<Fact> facts;
  // A standby connection or a grant would outlive its member: end them first, on the record.
  if (state.is_connected(command.member)) facts = Disconnection(state, command.member);
  if (state.has_access(command.member)) {
    facts.push_back({events::AccessRevoked{command.member, actor}, command.member});
  }
  facts.push_back({events::MemberRemoved{command.member}, command.member});
  return facts;
}

Decision Decide(const InstanceState& state, const std::string& actor,
                const commands::ConnectMarketo&) {
  if (auto refusal = CheckActor(state, actor, "connect Marketo", true)) return *refusal;
  if (state.is_connected(actor)) {
    return Refuse("already_connected", "'" + actor + "' is already connected to Marketo", actor);
  }
  if (state.has_access(actor)) {
    // DOMAIN.md lets any connected admin revoke; the procedure names the owner.
    const std::string by =
        state.owner()
            ? "'" + state.owner()->admin + "', who owns the connection, or another connected admin,"
            : "a connected admin";
    return Refuse("access_must_be_revoked_first",
                  "'" + actor +
                      "' holds granted Marketo integration access and cannot click Connect: " + by +
                      " must first revoke it in Settings > Marketo > User Access (handover step "
                      "1), then '" +
                      actor + "' connects (step 2)",
                  actor);
  }
  return std::vector<Fact>{{events::MarketoConnected{actor}, actor}};
}

Decision Decide(const InstanceState& state, const std::string& actor,
                const commands::DisconnectMarketo&) {
  if (auto refusal = CheckActor(state, actor, "disconnect Marketo", false)) return *refusal;
  if (!state.is_connected(actor)) {
    return Refuse("not_connected",
                  "'" + actor +
                      "' has no Marketo connection open: only an admin who clicked Connect, "
                      "and has not disconnected since, sees Disconnect",
                  actor);
  }
  return Disconnection(state, actor);
}

std::optional<Refusal> CheckGrantor(const InstanceState& state, const std::string& actor,
                                    const char* what) {
  if (auto refusal = CheckActor(state, actor, what, true)) return refusal;
  if (!state.is_connected(actor)) {
    return Refuse("not_connected",
                  std::string("only a connected admin can ") + what + "; '" + actor +
                      "' is not connected to Marketo",
                  actor);
  }
  return std::nullopt;
}

Decision Decide(const InstanceState& state, const std::string& actor,
                const commands::GrantMarketoAccess& command) {
  if (auto refusal = CheckGrantor(state, actor, "grant Marketo access")) return *refusal;
  if (auto refusal = CheckTarget(state, command.member)) return *refusal;
  if (state.is_connected(command.member)) {
    return Refuse("already_connected",
                  "'" + command.member + "' is a connected admin and needs no granted access",
                  command.member);
  }
  if (state.has_access(command.member)) {
    return Refuse("access_already_granted",
                  "'" + command.member + "' already holds Marketo integration access",
                  command.member);
  }
  return std::vector<Fact>{{events::AccessGranted{command.member, actor}, command.member}};
}

Decision Decide(const InstanceState& state, const std::string& actor,
                const commands::RevokeMarketoAccess& command) {
  if (auto refusal = CheckGrantor(state, actor, "revoke Marketo access")) return *refusal;
  if (auto refusal = CheckTarget(state, command.member)) return *refusal;
  if (!state.has_access(command.member)) {
    return Refuse("access_not_granted",
                  "'" + command.member + "' holds no Marketo integration access to revoke",
                  command.member);
  }
  return std::vector<Fact>{{events::AccessRevoked{command.member, actor}, command.member}};
}

Decision Decide(const InstanceState&, const std::string& actor, const commands::OnboardingStep&) {
  return Refuse("wrong_aggregate", "onboarding steps are decided by the onboarding aggregate",
                actor);
}

}  // namespace

const MemberRecord* InstanceState::member(const std::string& id) const {
  const auto found = members.find(id);
  return found == members.end() ? nullptr : &found->second;
}

bool InstanceState::is_active(const std::string& id) const {
  const MemberRecord* record = member(id);
  return record != nullptr && !record->removed;
}

bool InstanceState::is_connected(const std::string& id) const {
  return std::any_of(connected.begin(), connected.end(),
                     [&](const Connection& c) { return c.admin == id; });
}

bool InstanceState::has_access(const std::string& id) const { return Contains(access, id); }

void Evolve(InstanceState& state, const Event& event, const events::Payload& payload) {
  state.version = event.version;
  std::visit(
      [&](const auto& fact) {
        using T = std::decay_t<decltype(fact)>;
        if constexpr (std::is_same_v<T, events::TenantCreated>) {
          state.created = true;
          state.tenant = fact.tenant;
        } else if constexpr (std::is_same_v<T, events::MemberInvited>) {
          state.members[fact.member] =
              MemberRecord{fact.email, fact.role, false, event.occurred_at, event.position};
        } else if constexpr (std::is_same_v<T, events::MemberRemoved>) {
          state.members[fact.member].removed = true;
        } else if constexpr (std::is_same_v<T, events::MarketoConnected>) {
          state.connected.push_back(Connection{fact.admin, event.occurred_at, event.position});
        } else if constexpr (std::is_same_v<T, events::MarketoDisconnected>) {
          std::erase_if(state.connected,
                        [&](const Connection& c) { return c.admin == fact.admin; });
        } else if constexpr (std::is_same_v<T, events::IntegrationDown>) {
          state.access.clear();
        } else if constexpr (std::is_same_v<T, events::AccessGranted>) {
          state.access.push_back(fact.member);
        } else if constexpr (std::is_same_v<T, events::AccessRevoked>) {
          Erase(state.access, fact.member);
        }
        // Ownership follows connection order, so ownership_transferred changes nothing here;
        // command.rejected only moves the version.
      },
      payload);
}

Decision DecideInstance(const InstanceState& state, const commands::Command& command) {
  return std::visit([&](const auto& body) { return Decide(state, command.actor, body); },
                    command.body);
}

Decision DecideCreateTenant(const InstanceState& state, const commands::CreateTenant& command) {
  if (state.created) {
    return Refuse("tenant_exists", "tenant '" + command.tenant + "' already exists", command.admin);
  }
  return std::vector<Fact>{
      {events::TenantCreated{command.tenant}, command.admin},
      {events::MemberInvited{command.admin, command.email, "admin"}, command.admin}};
}

}  // namespace custody
