#pragma once

// The instance aggregate of a tenant: its members and the Marketo integration (who is
// connected, who owns the connection, who holds access). Pure: decide and evolve only.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "domain/commands.h"
#include "domain/decision.h"
#include "domain/event.h"
#include "domain/events.h"

namespace custody {

struct MemberRecord {
  std::string email;
  std::string role;  // "admin" or "user"
  bool removed = false;
  TimeMs invited_at = 0;
  std::int64_t invited_position = 0;

  bool is_admin() const { return role == "admin"; }
  template <class A>
  void serialize(A& a) {
    a(email, role, removed, invited_at, invited_position);
  }
  bool operator==(const MemberRecord&) const = default;
};

struct Connection {
  std::string admin;
  TimeMs since = 0;
  std::int64_t since_position = 0;

  template <class A>
  void serialize(A& a) {
    a(admin, since, since_position);
  }
  bool operator==(const Connection&) const = default;
};

struct InstanceState {
  bool created = false;
  std::string tenant;
  std::map<std::string, MemberRecord> members;
  std::vector<Connection> connected;  // in connection order: the first is the owner
  std::vector<std::string> access;    // members holding granted access, in grant order
  std::int64_t version = 0;           // of the instance stream

  const Connection* owner() const { return connected.empty() ? nullptr : &connected.front(); }
  // nullptr for an unknown member; removed members are still found.
  const MemberRecord* member(const std::string& id) const;
  bool is_active(const std::string& id) const;
  bool is_connected(const std::string& id) const;
  bool has_access(const std::string& id) const;

  template <class A>
  void serialize(A& a) {
    a(created, tenant, members, connected, access, version);
  }
  bool operator==(const InstanceState&) const = default;
};

// Applies one event of the instance stream.
void Evolve(InstanceState& state, const Event& event, const events::Payload& payload);

// Decides a member's command on the instance (every command but onboarding_step).
Decision DecideInstance(const InstanceState& state, const commands::Command& command);

// Decides the creation of a tenant; refused with rule "tenant_exists" if it exists.
Decision DecideCreateTenant(const InstanceState& state, const commands::CreateTenant& command);

// A step of the handover that must happen before a member can be removed safely.
struct HandoverStep {
  std::string command;  // e.g. "revoke_marketo_access"
  std::string actor;    // who does it
  std::string member;   // whom it is about; empty when the command takes no member
  std::string description;
};

struct RemovalCheck {
  bool safe = false;
  std::string reason;
  std::string rule;  // the rule a removal now would break; empty when safe
  std::vector<HandoverStep> remaining_steps;
};

// Whether removing `member` now is safe and, if not, what is left of the handover. Precondition:
// the member exists (state.member(member) != nullptr).
RemovalCheck CheckRemoval(const InstanceState& state, const std::string& member);

}  // namespace custody
