// The onboarding rules, one test each: the refusal with its rule and reason, and the allowed path.

#include "domain/onboarding.h"

#include <gtest/gtest.h>

#include "tests/domain/harness.h"

namespace custody {
namespace {

using domaintest::Accepted;
using domaintest::DataOf;
using domaintest::Harness;
using domaintest::RefusalOf;
using domaintest::Refused;
using Strings = std::vector<std::string>;

// A valid command for `step`, with the fields that step needs.
commands::OnboardingStep Valid(Step step) {
  commands::OnboardingStep command;
  command.step = step;
  switch (step) {
    case Step::kActivateWithSalesforce:
      command.api_enabled = true;
      break;
    case Step::kSalesforceAllow:
      command.sales_email = "carol@acme.test";
      command.salesforce_email = "carol@acme.test";
      break;
    case Step::kChooseEmailClient:
      command.client = "gmail";
      break;
    case Step::kEnterEmail:
      command.email = "carol@acme.test";
      break;
    case Step::kSignature:
      command.skipped = false;
      break;
    case Step::kTour:
      command.choice = "viewed";
      break;
    case Step::kLaunch:
      command.target = "web_app";
      break;
    case Step::kMsiPanelOpened:
      command.record = "lead";
      break;
    default:
      break;
  }
  return command;
}

commands::OnboardingStep ChooseClient(const std::string& client) {
  commands::OnboardingStep command = Valid(Step::kChooseEmailClient);
  command.client = client;
  return command;
}

// alice is the admin; carol and dave are invited users.
class Onboarding : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Accepted(h.CreateTenant("alice")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "carol", "user")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "dave", "user")));
  }

  // Completes every step for `member` up to and including `last`, with `client`.
  void Advance(const std::string& member, Step last, const std::string& client = "gmail") {
    while (h.onboarding(member).done != last) {
      const OnboardingState state = h.onboarding(member);
      const auto next = NextStep(state.done, state.client);
      ASSERT_TRUE(next.has_value());
      commands::OnboardingStep command =
          *next == Step::kChooseEmailClient ? ChooseClient(client) : Valid(*next);
      ASSERT_TRUE(Accepted(h.Onboard(member, command))) << StepName(*next);
    }
  }

  // A refused step is recorded on the member's stream and leaves them where they were.
  void ExpectRefusalRecorded(const std::string& member, const OnboardingState& before,
                             const std::string& rule) {
    ASSERT_EQ(h.last_types(), Strings{"command.rejected"});
    EXPECT_EQ(h.last().at(0).stream, "acme/onboarding/" + member);
    EXPECT_EQ(DataOf<events::CommandRejected>(h.last().at(0)).rule, rule);
    OnboardingState expected = before;
    expected.version = before.version + 1;
    EXPECT_EQ(h.onboarding(member), expected);
  }

  Harness h;
};

TEST_F(Onboarding, FirstStepIsGetStarted) {
  ASSERT_TRUE(Accepted(h.Onboard("carol", Valid(Step::kGetStarted))));
  EXPECT_EQ(h.last().at(0).stream, "acme/onboarding/carol");
  EXPECT_EQ(h.last().at(0).version, 1);
  const auto done = DataOf<events::StepCompleted>(h.last().at(0));
  EXPECT_EQ(done.member, "carol");
  EXPECT_EQ(done.step, "get_started");
  EXPECT_EQ(h.onboarding("carol").done, Step::kGetStarted);
  EXPECT_EQ(h.onboarding("dave").done, Step::kInvited);
}

TEST_F(Onboarding, StepOutOfOrderNamesTheExpectedStep) {
  const OnboardingState before = h.onboarding("carol");
  const auto decision = h.Onboard("carol", Valid(Step::kSalesforceLogin));
  EXPECT_TRUE(
      Refused(decision, "step_out_of_order",
              {"salesforce_login is out of order", "the next step for 'carol' is get_started"}));
  EXPECT_EQ(RefusalOf(decision).expected_step, "get_started");
  ExpectRefusalRecorded("carol", before, "step_out_of_order");
  const auto rejected = DataOf<events::CommandRejected>(h.last().at(0));
  EXPECT_EQ(rejected.command, "onboarding_step");
  EXPECT_EQ(rejected.step, "salesforce_login");
  EXPECT_EQ(rejected.expected_step, "get_started");
}

TEST_F(Onboarding, StepsCannotBeRepeated) {
  Advance("carol", Step::kStart);
  EXPECT_TRUE(Refused(h.Onboard("carol", Valid(Step::kStart)), "step_out_of_order", {"next"}));
  EXPECT_EQ(RefusalOf(h.Onboard("carol", Valid(Step::kGetStarted))).expected_step, "next");
}

TEST_F(Onboarding, ActivateRefusedWithoutApiEnabled) {
  Advance("carol", Step::kGetStarted);
  const OnboardingState before = h.onboarding("carol");
  commands::OnboardingStep command = Valid(Step::kActivateWithSalesforce);
  command.api_enabled = false;
  const auto decision = h.Onboard("carol", command);
  EXPECT_TRUE(Refused(decision, "api_not_enabled", {"API Enabled"}));
  EXPECT_EQ(RefusalOf(decision).expected_step, "activate_with_salesforce");
  ExpectRefusalRecorded("carol", before, "api_not_enabled");
  command.api_enabled.reset();
  EXPECT_TRUE(Refused(h.Onboard("carol", command), "api_not_enabled"));

  ASSERT_TRUE(Accepted(h.Onboard("carol", Valid(Step::kActivateWithSalesforce))));
  EXPECT_EQ(DataOf<events::StepCompleted>(h.last().at(0)).api_enabled, true);
}

TEST_F(Onboarding, AllowRefusedWhenTheEmailsDiffer) {
  Advance("carol", Step::kSalesforceLogin);
  const OnboardingState before = h.onboarding("carol");
  commands::OnboardingStep command = Valid(Step::kSalesforceAllow);
  command.salesforce_email = "carol.sales@acme.test";
  const auto decision = h.Onboard("carol", command);
  EXPECT_TRUE(Refused(decision, "email_mismatch", {"must be identical"}));
  EXPECT_EQ(RefusalOf(decision).expected_step, "salesforce_allow");
  ExpectRefusalRecorded("carol", before, "email_mismatch");
}

TEST_F(Onboarding, AllowComparesTheEmailsIgnoringCase) {
  Advance("carol", Step::kSalesforceLogin);
  commands::OnboardingStep command = Valid(Step::kSalesforceAllow);
  command.sales_email = "Carol@ACME.test";
  ASSERT_TRUE(Accepted(h.Onboard("carol", command)));
  const auto done = DataOf<events::StepCompleted>(h.last().at(0));
  EXPECT_EQ(done.sales_email, "Carol@ACME.test");
  EXPECT_EQ(done.salesforce_email, "carol@acme.test");
}

TEST_F(Onboarding, AllowIgnoresTheCaseOfLettersBeyondAscii) {
  Advance("carol", Step::kSalesforceLogin);
  commands::OnboardingStep command = Valid(Step::kSalesforceAllow);
  command.sales_email = "ZO\xc3\x8b.\xce\xa9@ACME.test";       // ZOË.Ω
  command.salesforce_email = "zo\xc3\xab.\xcf\x89@acme.test";  // zoë.ω
  ASSERT_TRUE(Accepted(h.Onboard("carol", command)));
}

TEST_F(Onboarding, AllowStillRefusesLettersThatDifferBeyondCase) {
  Advance("carol", Step::kSalesforceLogin);
  commands::OnboardingStep command = Valid(Step::kSalesforceAllow);
  command.sales_email = "zo\xc3\xab@acme.test";       // zoë
  command.salesforce_email = "zo\xc3\xaa@acme.test";  // zoê
  EXPECT_TRUE(Refused(h.Onboard("carol", command), "email_mismatch"));
}

TEST_F(Onboarding, GmailSkipsOutlookSignIn) {
  Advance("carol", Step::kContinue, "gmail");
  EXPECT_EQ(h.onboarding("carol").client, "gmail");
  const OnboardingState before = h.onboarding("carol");
  const auto decision = h.Onboard("carol", Valid(Step::kOutlookAuthenticated));
  EXPECT_TRUE(Refused(decision, "not_for_this_client", {"Outlook", "chose gmail"}));
  EXPECT_EQ(RefusalOf(decision).expected_step, "email_connected");
  ExpectRefusalRecorded("carol", before, "not_for_this_client");
  EXPECT_TRUE(Accepted(h.Onboard("carol", Valid(Step::kEmailConnected))));
}

TEST_F(Onboarding, OutlookRequiresItsOwnSignIn) {
  Advance("carol", Step::kContinue, "outlook");
  const auto decision = h.Onboard("carol", Valid(Step::kEmailConnected));
  EXPECT_TRUE(Refused(decision, "step_out_of_order", {"outlook_authenticated"}));
  EXPECT_EQ(RefusalOf(decision).expected_step, "outlook_authenticated");
  ASSERT_TRUE(Accepted(h.Onboard("carol", Valid(Step::kOutlookAuthenticated))));
  EXPECT_TRUE(Accepted(h.Onboard("carol", Valid(Step::kEmailConnected))));
}

TEST_F(Onboarding, OutlookSignInBeforeChoosingAClientIsOutOfOrder) {
  Advance("carol", Step::kNext);
  EXPECT_TRUE(Refused(h.Onboard("carol", Valid(Step::kOutlookAuthenticated)), "step_out_of_order",
                      {"choose_email_client"}));
}

TEST_F(Onboarding, SignatureMayBeSkipped) {
  Advance("carol", Step::kEmailConnected);
  commands::OnboardingStep command = Valid(Step::kSignature);
  command.skipped = true;
  ASSERT_TRUE(Accepted(h.Onboard("carol", command)));
  EXPECT_EQ(DataOf<events::StepCompleted>(h.last().at(0)).skipped, true);
  EXPECT_EQ(h.onboarding("carol").done, Step::kSignature);
}

TEST_F(Onboarding, TourEndsWhetherViewedOrPutOff) {
  Advance("carol", Step::kFinish);
  Advance("dave", Step::kFinish);
  commands::OnboardingStep later = Valid(Step::kTour);
  later.choice = "not_now";
  ASSERT_TRUE(Accepted(h.Onboard("carol", Valid(Step::kTour))));
  EXPECT_EQ(DataOf<events::StepCompleted>(h.last().at(0)).choice, "viewed");
  ASSERT_TRUE(Accepted(h.Onboard("dave", later)));
  EXPECT_EQ(DataOf<events::StepCompleted>(h.last().at(0)).choice, "not_now");
  EXPECT_EQ(h.onboarding("carol").done, Step::kTour);
  EXPECT_EQ(h.onboarding("dave").done, Step::kTour);
}

TEST_F(Onboarding, RemovedMemberCannotContinue) {
  Advance("carol", Step::kStart);
  ASSERT_TRUE(Accepted(h.Remove("alice", "carol")));
  const OnboardingState before = h.onboarding("carol");
  const auto decision = h.Onboard("carol", Valid(Step::kNext));
  EXPECT_TRUE(Refused(decision, "member_removed", {"removed", "cannot continue"}));
  EXPECT_FALSE(RefusalOf(decision).expected_step.has_value()) << "no step is expected any more";
  ExpectRefusalRecorded("carol", before, "member_removed");
  EXPECT_TRUE(Accepted(h.Onboard("dave", Valid(Step::kGetStarted))));
}

TEST_F(Onboarding, UnknownMemberCannotOnboard) {
  const auto decision = h.Onboard("ghost", Valid(Step::kGetStarted));
  EXPECT_TRUE(Refused(decision, "unknown_member", {"never invited", "invite"}));
  EXPECT_EQ(RefusalOf(decision).expected_step, std::nullopt);
  EXPECT_EQ(h.onboarding("ghost").done, Step::kInvited);
}

TEST_F(Onboarding, NothingComesAfterTheMsiPanel) {
  Advance("carol", kLastStep);
  EXPECT_TRUE(h.onboarding("carol").completed());
  const OnboardingState before = h.onboarding("carol");
  for (const Step step : {Step::kGetStarted, Step::kMsiPanelOpened, Step::kOutlookAuthenticated}) {
    const auto decision = h.Onboard("carol", Valid(step));
    EXPECT_TRUE(Refused(decision, "step_out_of_order", {"already completed onboarding"}));
    EXPECT_EQ(RefusalOf(decision).expected_step, std::nullopt);
  }
  EXPECT_EQ(h.onboarding("carol").done, before.done);
}

TEST_F(Onboarding, OnboardingDoesNotTouchTheInstance) {
  const InstanceState before = h.instance();
  Advance("carol", Step::kEnterPassword);
  EXPECT_EQ(h.instance(), before);
}

TEST(OnboardingSteps, NamesRoundTripAndFollowTheClient) {
  for (int i = 0; i < kStepCount; ++i) {
    const auto step = static_cast<Step>(i);
    EXPECT_EQ(StepFromName(StepName(step)), step);
  }
  EXPECT_EQ(StepFromName("password"), std::nullopt);
  EXPECT_EQ(NextStep(Step::kInvited, ""), Step::kGetStarted);
  EXPECT_EQ(NextStep(Step::kContinue, "gmail"), Step::kEmailConnected);
  EXPECT_EQ(NextStep(Step::kContinue, "outlook"), Step::kOutlookAuthenticated);
  EXPECT_EQ(NextStep(Step::kOutlookAuthenticated, "outlook"), Step::kEmailConnected);
  EXPECT_EQ(NextStep(kLastStep, "gmail"), std::nullopt);
}

}  // namespace
}  // namespace custody
