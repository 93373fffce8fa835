// The seed "MSI Actions user onboarding" end to end, with Gmail and with Outlook: every step
// arrives as a JSON command body, is decoded, decided and recorded.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "domain/command_codec.h"
#include "domain/onboarding.h"
#include "tests/domain/harness.h"

namespace custody {
namespace {

using domaintest::Accepted;
using domaintest::DataOf;
using domaintest::Harness;
using Strings = std::vector<std::string>;

constexpr const char* kPassword = "correct-horse-battery";

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The body of carol's onboarding_step command for `step`, with `fields` (a JSON fragment).
std::string Body(const std::string& step, const std::string& fields = "") {
  return R"({"command": "onboarding_step", "actor": "carol", "step": ")" + step + "\"" +
         (fields.empty() ? "" : ", " + fields) + "}";
}

class OnboardingStory : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Accepted(h.CreateTenant("alice")));
    ASSERT_TRUE(Accepted(h.Invite("alice", "carol", "user")));
  }

  // Decodes `body` and runs it; the command must be accepted.
  void Do(const std::string& body) {
    const auto decoded = DecodeCommand(body);
    const auto* error = std::get_if<DecodeError>(&decoded);
    ASSERT_EQ(error, nullptr) << body << ": " << error->code << " " << error->message;
    ASSERT_TRUE(Accepted(h.Run(std::get<DecodedCommand>(decoded).command))) << body;
  }

  // The password screen: a body that carries the password is refused before any rule runs, and
  // the step itself is recorded without it.
  void EnterPassword() {
    const auto refused =
        DecodeCommand(Body("enter_password", R"("password": ")" + std::string(kPassword) + "\""));
    ASSERT_TRUE(std::holds_alternative<DecodeError>(refused));
    EXPECT_EQ(std::get<DecodeError>(refused).code, "secret_not_allowed");
    Do(Body("enter_password"));
  }

  // The steps recorded for carol, in order.
  Strings StepsDone() {
    Strings steps;
    for (const Event& event : h.log()) {
      if (event.type == "onboarding.step_completed") {
        steps.push_back(DataOf<events::StepCompleted>(event).step);
      }
    }
    return steps;
  }

  // No event holds a password: neither the one typed nor any field named after one. The only
  // mention allowed is the public name of the step, enter_password.
  void ExpectNoPasswordRecorded() {
    for (const Event& event : h.log()) {
      std::string data = Lower(event.data);
      EXPECT_EQ(data.find(Lower(kPassword)), std::string::npos) << event.data;
      for (auto at = data.find("enter_password"); at != std::string::npos;
           at = data.find("enter_password")) {
        data.erase(at, std::string("enter_password").size());
      }
      EXPECT_EQ(data.find("password"), std::string::npos) << event.data;
      EXPECT_EQ(data.find("passwd"), std::string::npos) << event.data;
    }
  }

  // Steps 1 to 9, up to the password, with the chosen client.
  void UpToThePassword(const std::string& client) {
    Do(Body("get_started"));
    Do(Body("activate_with_salesforce", R"("api_enabled": true)"));
    Do(Body("salesforce_login"));
    Do(Body("salesforce_allow",
            R"("sales_email": "Carol@Acme.test", "salesforce_email": "carol@acme.test")"));
    Do(Body("start"));
    Do(Body("next"));
    Do(Body("choose_email_client", R"("client": ")" + client + "\""));
    Do(Body("enter_email", R"("email": "carol@acme.test")"));
    EnterPassword();
    Do(Body("continue"));
  }

  Harness h;
};

TEST_F(OnboardingStory, GmailUserCompletesOnboarding) {
  ASSERT_NO_FATAL_FAILURE(UpToThePassword("gmail"));
  Do(Body("email_connected"));
  Do(Body("signature", R"("skipped": false)"));
  Do(Body("finish"));
  Do(Body("tour", R"("choice": "viewed")"));
  Do(Body("launch", R"("target": "salesforce_lightning")"));
  Do(Body("msi_panel_opened", R"("record": "opportunity")"));

  const OnboardingState state = h.onboarding("carol");
  EXPECT_TRUE(state.completed());
  EXPECT_EQ(state.done, Step::kMsiPanelOpened);
  EXPECT_EQ(state.client, "gmail");
  EXPECT_EQ(state.version, 16);
  EXPECT_EQ(NextStep(state.done, state.client), std::nullopt);
  EXPECT_EQ(StepsDone(), (Strings{"get_started", "activate_with_salesforce", "salesforce_login",
                                  "salesforce_allow", "start", "next", "choose_email_client",
                                  "enter_email", "enter_password", "continue", "email_connected",
                                  "signature", "finish", "tour", "launch", "msi_panel_opened"}));
  const auto last = DataOf<events::StepCompleted>(h.log().back());
  EXPECT_EQ(last.record, "opportunity");
  EXPECT_EQ(h.log().back().stream, "acme/onboarding/carol");
  ExpectNoPasswordRecorded();
}

TEST_F(OnboardingStory, OutlookUserCompletesOnboarding) {
  ASSERT_NO_FATAL_FAILURE(UpToThePassword("outlook"));
  Do(Body("outlook_authenticated"));
  Do(Body("email_connected"));
  Do(Body("signature", R"("skipped": true)"));
  Do(Body("finish"));
  Do(Body("tour", R"("choice": "not_now")"));
  Do(Body("launch", R"("target": "web_app")"));
  Do(Body("msi_panel_opened", R"("record": "lead")"));

  const OnboardingState state = h.onboarding("carol");
  EXPECT_TRUE(state.completed());
  EXPECT_EQ(state.done, Step::kMsiPanelOpened);
  EXPECT_EQ(state.client, "outlook");
  EXPECT_EQ(state.version, 17);
  const Strings steps = StepsDone();
  ASSERT_EQ(steps.size(), 17u);
  EXPECT_EQ(steps[10], "outlook_authenticated");
  EXPECT_EQ(steps[11], "email_connected");
  EXPECT_EQ(steps.back(), "msi_panel_opened");

  // Each step's details are on the record.
  std::vector<events::StepCompleted> done;
  for (const Event& event : h.log()) {
    if (event.type == "onboarding.step_completed") {
      done.push_back(DataOf<events::StepCompleted>(event));
    }
  }
  EXPECT_EQ(done[1].api_enabled, true);
  EXPECT_EQ(done[3].sales_email, "Carol@Acme.test");
  EXPECT_EQ(done[6].client, "outlook");
  EXPECT_EQ(done[7].email, "carol@acme.test");
  EXPECT_EQ(done[8].email, std::nullopt);  // enter_password carries nothing
  EXPECT_EQ(h.log()[h.log().size() - 17 + 8].data, R"({"member":"carol","step":"enter_password"})");
  EXPECT_EQ(done[12].skipped, true);
  EXPECT_EQ(done[14].choice, "not_now");
  EXPECT_EQ(done[15].target, "web_app");
  EXPECT_EQ(done[16].record, "lead");
  ExpectNoPasswordRecorded();
}

}  // namespace
}  // namespace custody
