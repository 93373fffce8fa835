#pragma once

// The facts custody records, as typed payloads. Each payload's fields are named as in API.md
// through cereal name-value pairs, so one serialize() function drives the canonical JSON
// `data` of an event and cereal's own archives (projection snapshots).

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <cereal/cereal.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "domain/event.h"
#include "domain/status.h"

namespace custody::events {

struct TenantCreated {
  static constexpr const char* kType = "tenant.created";
  std::string tenant;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(tenant));
  }
};

struct MemberInvited {
  static constexpr const char* kType = "member.invited";
  std::string member;
  std::string email;
  std::string role;  // "admin" or "user"
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(member), CEREAL_NVP(email), CEREAL_NVP(role));
  }
};

struct MemberRemoved {
  static constexpr const char* kType = "member.removed";
  std::string member;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(member));
  }
};

struct MarketoConnected {
  static constexpr const char* kType = "marketo.connected";
  std::string admin;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(admin));
  }
};

struct MarketoDisconnected {
  static constexpr const char* kType = "marketo.disconnected";
  std::string admin;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(admin));
  }
};

struct OwnershipTransferred {
  static constexpr const char* kType = "marketo.ownership_transferred";
  std::string from;
  std::string to;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(from), CEREAL_NVP(to));
  }
};

struct IntegrationDown {
  static constexpr const char* kType = "marketo.integration_down";
  std::string last_admin;
  std::vector<std::string> cut_off;  // members who held access, in the order it was granted
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(last_admin), CEREAL_NVP(cut_off));
  }
};

struct AccessGranted {
  static constexpr const char* kType = "marketo.access_granted";
  std::string member;
  std::string by;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(member), CEREAL_NVP(by));
  }
};

struct AccessRevoked {
  static constexpr const char* kType = "marketo.access_revoked";
  std::string member;
  std::string by;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(member), CEREAL_NVP(by));
  }
};

// One onboarding step done. Only the details of that step are set.
struct StepCompleted {
  static constexpr const char* kType = "onboarding.step_completed";
  std::string member;
  std::string step;
  std::optional<bool> api_enabled;
  std::optional<std::string> sales_email;
  std::optional<std::string> salesforce_email;
  std::optional<std::string> client;
  std::optional<std::string> email;
  std::optional<bool> skipped;
  std::optional<std::string> choice;
  std::optional<std::string> target;
  std::optional<std::string> record;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(member), CEREAL_NVP(step), CEREAL_NVP(api_enabled), CEREAL_NVP(sales_email),
      CEREAL_NVP(salesforce_email), CEREAL_NVP(client), CEREAL_NVP(email), CEREAL_NVP(skipped),
      CEREAL_NVP(choice), CEREAL_NVP(target), CEREAL_NVP(record));
  }
};

// A command a rule refused: who tried what, and why. `member` is whom the command was about.
struct CommandRejected {
  static constexpr const char* kType = "command.rejected";
  std::string command;
  std::string rule;
  std::string message;
  std::optional<std::string> member;
  std::optional<std::string> step;
  std::optional<std::string> expected_step;
  // The member the refused command named (invite, remove, grant, revoke): `member` is whom
  // the refusal is about, which is the actor when the actor may not act at all.
  std::optional<std::string> target;
  template <class A>
  void serialize(A& a) {
    a(CEREAL_NVP(command), CEREAL_NVP(rule), CEREAL_NVP(message), CEREAL_NVP(member),
      CEREAL_NVP(step), CEREAL_NVP(expected_step), CEREAL_NVP(target));
  }
};

using Payload = std::variant<TenantCreated, MemberInvited, MemberRemoved, MarketoConnected,
                             MarketoDisconnected, OwnershipTransferred, IntegrationDown,
                             AccessGranted, AccessRevoked, StepCompleted, CommandRejected>;

// The event type string of a payload ("marketo.connected").
const char* TypeOf(const Payload& payload);
// Whether `type` is the type of one of the payloads above.
bool IsEventType(std::string_view type);
// Every event type, comma-separated, for messages.
std::string EventTypeList();

// The payload as canonical JSON (keys sorted; unset optional fields left out).
std::string EncodeData(const Payload& payload);

// Decodes an event's `data` for its `type`. kInvalidArgument for an unknown type or a data
// object that does not fit it; kNotSupported for a format this code does not know.
Result<Payload> DecodeData(const std::string& type, const std::string& data, int format);

// Convenience: DecodeData on an envelope.
inline Result<Payload> DecodeEvent(const Event& event) {
  return DecodeData(event.type, event.data, event.format);
}

}  // namespace custody::events
