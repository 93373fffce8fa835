#pragma once

// What people ask custody to do. Each command is decided by one aggregate (instance.h or
// onboarding.h) and writes to one stream.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "domain/onboarding_steps.h"

namespace custody::commands {

struct InviteMember {
  static constexpr const char* kName = "invite_member";
  std::string member;
  std::string email;
  std::string role;  // "admin" or "user"
};

struct RemoveMember {
  static constexpr const char* kName = "remove_member";
  std::string member;
};

// The actor clicks Connect.
struct ConnectMarketo {
  static constexpr const char* kName = "connect_marketo";
};

// The actor clicks Disconnect.
struct DisconnectMarketo {
  static constexpr const char* kName = "disconnect_marketo";
};

struct GrantMarketoAccess {
  static constexpr const char* kName = "grant_marketo_access";
  std::string member;
};

struct RevokeMarketoAccess {
  static constexpr const char* kName = "revoke_marketo_access";
  std::string member;
};

// The actor completes one onboarding step. Only the fields of that step are set; the
// password of enter_password is never part of a command.
struct OnboardingStep {
  static constexpr const char* kName = "onboarding_step";
  Step step = Step::kGetStarted;
  std::optional<bool> api_enabled;              // activate_with_salesforce
  std::optional<std::string> sales_email;       // salesforce_allow
  std::optional<std::string> salesforce_email;  // salesforce_allow
  std::optional<std::string> client;            // choose_email_client: gmail | outlook
  std::optional<std::string> email;             // enter_email
  std::optional<bool> skipped;                  // signature
  std::optional<std::string> choice;            // tour: viewed | not_now
  std::optional<std::string> target;            // launch
  std::optional<std::string> record;            // msi_panel_opened
};

using Body = std::variant<InviteMember, RemoveMember, ConnectMarketo, DisconnectMarketo,
                          GrantMarketoAccess, RevokeMarketoAccess, OnboardingStep>;

struct Command {
  std::string actor;  // the member who acts
  Body body;
};

// Creates a tenant with its first admin (operator only; not a member's command).
struct CreateTenant {
  static constexpr const char* kName = "create_tenant";  // as its refusals name it
  std::string tenant;
  std::string admin;
  std::string email;
};

inline const char* NameOf(const Body& body) {
  return std::visit([](const auto& b) { return std::decay_t<decltype(b)>::kName; }, body);
}

// Whether `name` is the name of one of the commands of Body.
inline bool IsCommandName(std::string_view name) {
  return []<std::size_t... I>(std::string_view wanted, std::index_sequence<I...>) {
    return ((wanted == std::variant_alternative_t<I, Body>::kName) || ...);
  }
  (name, std::make_index_sequence<std::variant_size_v<Body>>());
}

inline bool IsOnboarding(const Body& body) { return std::holds_alternative<OnboardingStep>(body); }

// The member a command names (invite, remove, grant, revoke), if it names one.
inline std::optional<std::string> TargetOf(const Body& body) {
  return std::visit(
      [](const auto& b) -> std::optional<std::string> {
        if constexpr (requires { b.member; }) {
          return b.member;
        } else {
          return std::nullopt;
        }
      },
      body);
}

}  // namespace custody::commands
