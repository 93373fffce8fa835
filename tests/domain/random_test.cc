// Thousands of random command sequences over a handful of members. After every command the
// invariants of the domain must hold, a refusal must change nothing but the stream version, and
// an onboarding step may only ever be the next one.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "domain/instance.h"
#include "domain/onboarding.h"
#include "tests/domain/harness.h"

namespace custody {
namespace {

using domaintest::DataOf;
using domaintest::Harness;
using Strings = std::vector<std::string>;

constexpr int kSequences = 200;
constexpr int kCommandsPerSequence = 200;
constexpr std::uint32_t kFirstSeed = 20261121;
const Strings kMembers = {"m0", "m1", "m2", "m3", "m4", "m5"};

class Generator {
 public:
  Generator(std::uint32_t seed, const Harness& h) : rng_(seed), h_(h), favourite_(Pick(kMembers)) {}

  commands::Command Next() {
    const int pick = Uniform(0, 99);
    if (pick < 10) return {Actor(), commands::InviteMember{Target(), "x@acme.test", Role()}};
    if (pick < 14) return {Actor(), commands::RemoveMember{Target()}};
    if (pick < 28) return {Actor(), commands::ConnectMarketo{}};
    if (pick < 38) return {Actor(), commands::DisconnectMarketo{}};
    if (pick < 52) return {Actor(), commands::GrantMarketoAccess{Target()}};
    if (pick < 62) return {Actor(), commands::RevokeMarketoAccess{Target()}};
    // Onboarding mostly follows one member per sequence, so that some of them finish.
    const std::string actor = Chance(50) ? favourite_ : Any();
    return {actor, Onboarding(actor)};
  }

  bool Chance(int percent) { return Uniform(0, 99) < percent; }

 private:
  int Uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }
  const std::string& Pick(const Strings& from) {
    return from[static_cast<std::size_t>(Uniform(0, static_cast<int>(from.size()) - 1))];
  }

  // Mostly a known id; now and then one that was never invited.
  std::string Any() { return Chance(4) ? "ghost" : Pick(kMembers); }
  std::string Target() { return Any(); }
  std::string Role() { return Chance(50) ? "admin" : "user"; }

  // Half the time an active admin, connected ones preferred, so that rules get past the actor.
  std::string Actor() {
    if (Chance(50)) {
      Strings admins;
      for (const auto& [id, record] : h_.instance().members) {
        if (!record.removed && record.is_admin()) admins.push_back(id);
      }
      if (!h_.instance().connected.empty() && Chance(50)) {
        return h_.instance()
            .connected[static_cast<std::size_t>(
                Uniform(0, static_cast<int>(h_.instance().connected.size()) - 1))]
            .admin;
      }
      if (!admins.empty()) return Pick(admins);
    }
    return Any();
  }

  // Usually the step expected next, sometimes any step; fields mostly valid.
  commands::OnboardingStep Onboarding(const std::string& actor) {
    const OnboardingState state = h_.onboarding(actor);
    const auto next = NextStep(state.done, state.client);
    commands::OnboardingStep command;
    command.step = next && Chance(75) ? *next : static_cast<Step>(Uniform(1, kStepCount - 1));
    switch (command.step) {
      case Step::kActivateWithSalesforce:
        command.api_enabled = Chance(80);
        break;
      case Step::kSalesforceAllow:
        command.sales_email = Chance(50) ? "A@acme.test" : "a@acme.test";
        command.salesforce_email = Chance(80) ? "a@acme.test" : "b@acme.test";
        break;
      case Step::kChooseEmailClient:
        command.client = Chance(50) ? "gmail" : "outlook";
        break;
      case Step::kEnterEmail:
        command.email = "a@acme.test";
        break;
      case Step::kSignature:
        command.skipped = Chance(50);
        break;
      case Step::kTour:
        command.choice = Chance(50) ? "viewed" : "not_now";
        break;
      case Step::kLaunch:
        command.target = Chance(50) ? "web_app" : "salesforce_lightning";
        break;
      case Step::kMsiPanelOpened:
        command.record = Chance(50) ? "lead" : "opportunity";
        break;
      default:
        break;
    }
    return command;
  }

  std::mt19937 rng_;
  const Harness& h_;
  std::string favourite_;
};

// The invariants of the instance that must hold after every command.
::testing::AssertionResult InstanceInvariants(const InstanceState& state) {
  std::set<std::string> connected;
  for (const Connection& connection : state.connected) {
    const MemberRecord* record = state.member(connection.admin);
    if (record == nullptr || record->removed || !record->is_admin()) {
      return ::testing::AssertionFailure()
             << "connected '" << connection.admin << "' is not an active admin";
    }
    if (!connected.insert(connection.admin).second) {
      return ::testing::AssertionFailure() << "'" << connection.admin << "' connected twice";
    }
    if (state.has_access(connection.admin)) {
      return ::testing::AssertionFailure()
             << "connected admin '" << connection.admin << "' holds granted access";
    }
  }
  if (state.owner() != nullptr && state.owner()->admin != state.connected.front().admin) {
    return ::testing::AssertionFailure() << "the owner is not the first connected admin";
  }
  std::set<std::string> holders;
  for (const std::string& holder : state.access) {
    if (!state.is_active(holder)) {
      return ::testing::AssertionFailure() << "access holder '" << holder << "' is not active";
    }
    if (!holders.insert(holder).second) {
      return ::testing::AssertionFailure() << "'" << holder << "' holds access twice";
    }
  }
  if (state.connected.empty() && (!state.access.empty() || state.owner() != nullptr)) {
    return ::testing::AssertionFailure() << "nothing is connected, yet access or an owner remains";
  }
  return ::testing::AssertionSuccess();
}

// What the events of one accepted command must say, given the states before it.
::testing::AssertionResult FactsAgree(const std::vector<Event>& appended,
                                      const InstanceState& before,
                                      const OnboardingState& onboarding_before) {
  for (const Event& event : appended) {
    if (event.type == "command.rejected") {
      return ::testing::AssertionFailure() << "an accepted command recorded a rejection";
    }
    if (event.type == "marketo.ownership_transferred") {
      const auto transfer = DataOf<events::OwnershipTransferred>(event);
      if (before.connected.size() < 2 || transfer.from != before.connected[0].admin ||
          transfer.to != before.connected[1].admin) {
        return ::testing::AssertionFailure() << "ownership went to the wrong admin: " << event.data;
      }
    }
    if (event.type == "marketo.integration_down") {
      if (DataOf<events::IntegrationDown>(event).cut_off != before.access) {
        return ::testing::AssertionFailure()
               << "cut_off is not every access holder: " << event.data;
      }
    }
    if (event.type == "onboarding.step_completed") {
      const auto step = StepFromName(DataOf<events::StepCompleted>(event).step);
      const auto expected = NextStep(onboarding_before.done, onboarding_before.client);
      if (!step || step != expected) {
        return ::testing::AssertionFailure() << "step out of order: " << event.data;
      }
      if (!before.is_active(event.actor)) {
        return ::testing::AssertionFailure() << "'" << event.actor << "' is not an active member";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// A refusal appended exactly one command.rejected and changed nothing but that stream's version.
::testing::AssertionResult NothingChanged(const Harness& h, const InstanceState& before,
                                          const std::map<std::string, OnboardingState>& onboarding,
                                          const commands::Command& command) {
  if (h.last_types() != Strings{"command.rejected"}) {
    return ::testing::AssertionFailure() << "a refusal did not record exactly one rejection";
  }
  InstanceState instance = before;
  std::map<std::string, OnboardingState> expected = onboarding;
  if (commands::IsOnboarding(command.body)) {
    expected[command.actor].version += 1;
  } else {
    instance.version += 1;
  }
  if (!(h.instance() == instance)) return ::testing::AssertionFailure() << "the instance changed";
  if (h.onboardings() != expected) return ::testing::AssertionFailure() << "an onboarding changed";
  return ::testing::AssertionSuccess();
}

TEST(RandomCommands, InvariantsHoldAfterEveryCommand) {
  std::map<std::string, int> seen;  // event types and refusal rules, over every sequence
  for (int sequence = 0; sequence < kSequences; ++sequence) {
    const std::uint32_t seed = kFirstSeed + static_cast<std::uint32_t>(sequence);
    SCOPED_TRACE("seed " + std::to_string(seed));
    Harness h;
    ASSERT_FALSE(IsRefusal(h.CreateTenant("m0")));
    Generator generator(seed, h);
    for (int i = 0; i < kCommandsPerSequence; ++i) {
      const commands::Command command = generator.Next();
      SCOPED_TRACE("command " + std::to_string(i) + ": " + commands::NameOf(command.body) + " by " +
                   command.actor);
      const InstanceState before = h.instance();
      const auto onboarding_before = h.onboardings();
      const OnboardingState actor_onboarding = h.onboarding(command.actor);

      const Decision decision = h.Run(command);
      if (const auto* refusal = std::get_if<Refusal>(&decision)) {
        ++seen["rule:" + refusal->rule];
        ASSERT_FALSE(refusal->message.empty());
        ASSERT_TRUE(NothingChanged(h, before, onboarding_before, command));
      } else {
        ASSERT_FALSE(h.last().empty());
        for (const Event& event : h.last()) ++seen[event.type];
        ASSERT_TRUE(FactsAgree(h.last(), before, actor_onboarding));
      }
      ASSERT_TRUE(InstanceInvariants(h.instance()));
    }
  }

  // The generator reaches every fact and every rule, or the invariants prove little.
  for (const char* expected : {"member.invited",
                               "member.removed",
                               "marketo.connected",
                               "marketo.disconnected",
                               "marketo.ownership_transferred",
                               "marketo.integration_down",
                               "marketo.access_granted",
                               "marketo.access_revoked",
                               "onboarding.step_completed",
                               "rule:not_an_admin",
                               "rule:already_connected",
                               "rule:access_must_be_revoked_first",
                               "rule:not_connected",
                               "rule:owner_cannot_be_removed",
                               "rule:unknown_member",
                               "rule:member_exists",
                               "rule:member_removed",
                               "rule:step_out_of_order",
                               "rule:api_not_enabled",
                               "rule:email_mismatch",
                               "rule:not_for_this_client",
                               "rule:access_already_granted",
                               "rule:access_not_granted"}) {
    EXPECT_GT(seen[expected], 0) << expected << " never happened";
  }
}

TEST(RandomCommands, SomeMembersCompleteOnboarding) {
  int completed = 0;
  for (int sequence = 0; sequence < 20; ++sequence) {
    Harness h;
    ASSERT_FALSE(IsRefusal(h.CreateTenant("m0")));
    Generator generator(kFirstSeed + static_cast<std::uint32_t>(sequence), h);
    for (int i = 0; i < kCommandsPerSequence; ++i) h.Run(generator.Next());
    for (const auto& [member, state] : h.onboardings()) completed += state.completed() ? 1 : 0;
  }
  EXPECT_GT(completed, 0);
}

}  // namespace
}  // namespace custody
