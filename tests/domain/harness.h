#pragma once

// A pure stand-in for the event store, for domain tests. It holds the instance state and every
// member's onboarding state, turns a decision's facts (or its refusal, as command.rejected) into
// events of the right stream, round-trips each through the payload codec, and evolves the states.

#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "domain/commands.h"
#include "domain/decision.h"
#include "domain/event.h"
#include "domain/events.h"
#include "domain/instance.h"
#include "domain/onboarding.h"
#include "domain/onboarding_steps.h"

namespace custody::domaintest {

class Harness {
 public:
  explicit Harness(std::string tenant = "acme") : tenant_(std::move(tenant)) {}

  // Creates the tenant with its first admin.
  Decision CreateTenant(const std::string& admin, const std::string& email = "") {
    const commands::CreateTenant command{tenant_, admin,
                                         email.empty() ? admin + "@acme.test" : email};
    Decision decision = DecideCreateTenant(instance_, command);
    Record(decision, "", admin, "create_tenant", nullptr);
    return decision;
  }

  // Decides `command` with the aggregate it belongs to and records the outcome.
  Decision Run(const commands::Command& command) {
    if (const auto* step = std::get_if<commands::OnboardingStep>(&command.body)) {
      OnboardingState& state = onboarding_[command.actor];
      Decision decision = DecideOnboarding(instance_, state, command.actor, *step);
      Record(decision, command.actor, command.actor, commands::NameOf(command.body), step);
      return decision;
    }
    Decision decision = DecideInstance(instance_, command);
    Record(decision, "", command.actor, commands::NameOf(command.body), nullptr);
    return decision;
  }
  Decision Run(const std::string& actor, commands::Body body) {
    return Run(commands::Command{actor, std::move(body)});
  }

  // Shorthands for the instance commands.
  Decision Invite(const std::string& actor, const std::string& member, const std::string& role) {
    return Run(actor, commands::InviteMember{member, member + "@acme.test", role});
  }
  Decision Remove(const std::string& actor, const std::string& member) {
    return Run(actor, commands::RemoveMember{member});
  }
  Decision Connect(const std::string& actor) { return Run(actor, commands::ConnectMarketo{}); }
  Decision Disconnect(const std::string& actor) {
    return Run(actor, commands::DisconnectMarketo{});
  }
  Decision Grant(const std::string& actor, const std::string& member) {
    return Run(actor, commands::GrantMarketoAccess{member});
  }
  Decision Revoke(const std::string& actor, const std::string& member) {
    return Run(actor, commands::RevokeMarketoAccess{member});
  }
  Decision Onboard(const std::string& actor, commands::OnboardingStep step) {
    return Run(actor, std::move(step));
  }

  const InstanceState& instance() const { return instance_; }
  // The member's onboarding; a fresh state when nothing was recorded for them.
  OnboardingState onboarding(const std::string& member) const {
    const auto found = onboarding_.find(member);
    return found == onboarding_.end() ? OnboardingState{} : found->second;
  }
  const std::map<std::string, OnboardingState>& onboardings() const { return onboarding_; }
  // The whole log, in position order.
  const std::vector<Event>& log() const { return log_; }
  // The events the last command appended.
  std::vector<Event> last() const {
    return std::vector<Event>(log_.begin() + static_cast<std::ptrdiff_t>(last_begin_), log_.end());
  }
  // The types of the events the last command appended.
  std::vector<std::string> last_types() const {
    std::vector<std::string> types;
    for (const Event& event : last()) types.push_back(event.type);
    return types;
  }

 private:
  // `onboarding_of`: the member whose onboarding stream is written; empty for the instance.
  void Record(const Decision& decision, const std::string& onboarding_of, const std::string& actor,
              const std::string& command, const commands::OnboardingStep* step) {
    last_begin_ = log_.size();
    if (const auto* refusal = std::get_if<Refusal>(&decision)) {
      events::CommandRejected rejected{command,         refusal->rule, refusal->message,
                                       refusal->member, std::nullopt,  refusal->expected_step,
                                       std::nullopt};
      if (step != nullptr) rejected.step = std::string(StepName(step->step));
      Append(onboarding_of, actor, refusal->member, rejected);
      return;
    }
    for (const Fact& fact : std::get<std::vector<Fact>>(decision)) {
      Append(onboarding_of, actor, fact.subject, fact.payload);
    }
  }

  void Append(const std::string& onboarding_of, const std::string& actor,
              const std::string& subject, const events::Payload& payload) {
    const bool on_instance = onboarding_of.empty();
    Event event;
    event.position = static_cast<std::int64_t>(log_.size()) + 1;
    event.stream = on_instance ? InstanceStream(tenant_) : OnboardingStream(tenant_, onboarding_of);
    event.version = (on_instance ? instance_.version : onboarding_[onboarding_of].version) + 1;
    event.type = events::TypeOf(payload);
    event.tenant = tenant_;
    event.actor = actor;
    event.subject = subject;
    event.occurred_at = kStart + event.position * 1000;
    event.recorded_at = event.occurred_at;
    event.data = events::EncodeData(payload);

    // Every event goes through the codec as the store would serve it back.
    const Result<events::Payload> decoded = events::DecodeEvent(event);
    EXPECT_TRUE(decoded.ok()) << event.type << " " << event.data << ": "
                              << decoded.status().ToString();
    if (!decoded.ok()) return;
    EXPECT_EQ(events::EncodeData(*decoded), event.data);
    EXPECT_EQ(decoded->index(), payload.index()) << event.type;
    log_.push_back(event);
    if (on_instance) {
      Evolve(instance_, event, *decoded);
    } else {
      Evolve(onboarding_[onboarding_of], event, *decoded);
    }
  }

  static constexpr TimeMs kStart = 1795255200000;  // 2026-11-21T10:00:00.000Z

  std::string tenant_;
  InstanceState instance_;
  std::map<std::string, OnboardingState> onboarding_;
  std::vector<Event> log_;
  std::size_t last_begin_ = 0;
};

// The refusal of a decision; fails the test (and returns an empty refusal) if it was accepted.
inline Refusal RefusalOf(const Decision& decision) {
  const auto* refusal = std::get_if<Refusal>(&decision);
  EXPECT_NE(refusal, nullptr) << "the command was accepted";
  return refusal == nullptr ? Refusal{} : *refusal;
}

// The facts of a decision; fails the test (and returns none) if it was refused.
inline std::vector<Fact> FactsOf(const Decision& decision) {
  const auto* refusal = std::get_if<Refusal>(&decision);
  EXPECT_EQ(refusal, nullptr) << "refused: "
                              << (refusal ? refusal->rule + ": " + refusal->message
                                          : std::string());
  return refusal == nullptr ? std::get<std::vector<Fact>>(decision) : std::vector<Fact>{};
}

// Whether `decision` is a refusal by `rule` whose message contains every one of `words`.
inline ::testing::AssertionResult Refused(const Decision& decision, const std::string& rule,
                                          std::initializer_list<std::string_view> words = {}) {
  const auto* refusal = std::get_if<Refusal>(&decision);
  if (refusal == nullptr) return ::testing::AssertionFailure() << "accepted, expected " << rule;
  if (refusal->rule != rule) {
    return ::testing::AssertionFailure()
           << "refused by " << refusal->rule << " (" << refusal->message << "), expected " << rule;
  }
  for (const std::string_view word : words) {
    if (refusal->message.find(word) == std::string::npos) {
      return ::testing::AssertionFailure()
             << "the message of " << rule << " lacks '" << word << "': " << refusal->message;
    }
  }
  return ::testing::AssertionSuccess();
}

// Whether `decision` was accepted.
inline ::testing::AssertionResult Accepted(const Decision& decision) {
  if (const auto* refusal = std::get_if<Refusal>(&decision)) {
    return ::testing::AssertionFailure()
           << "refused by " << refusal->rule << ": " << refusal->message;
  }
  return ::testing::AssertionSuccess();
}

// The payload of `event`, decoded as a T; fails the test (and returns T{}) if it is not one.
template <class T>
T DataOf(const Event& event) {
  const Result<events::Payload> decoded = events::DecodeEvent(event);
  EXPECT_TRUE(decoded.ok()) << decoded.status().ToString();
  const T* payload = decoded.ok() ? std::get_if<T>(&*decoded) : nullptr;
  EXPECT_NE(payload, nullptr) << event.type << " is not a " << T::kType;
  return payload == nullptr ? T{} : *payload;
}

// The ids of the currently connected admins, in connection order.
inline std::vector<std::string> ConnectedAdmins(const InstanceState& state) {
  std::vector<std::string> admins;
  for (const Connection& connection : state.connected) admins.push_back(connection.admin);
  return admins;
}

}  // namespace custody::domaintest
