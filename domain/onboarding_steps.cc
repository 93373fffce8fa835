#include "domain/onboarding_steps.h"

#include <array>

namespace custody {
namespace {

constexpr std::array<std::string_view, kStepCount> kStepNames = {
    "invited",
    "get_started",
    "activate_with_salesforce",
    "salesforce_login",
    "salesforce_allow",
    "start",
    "next",
    "choose_email_client",
    "enter_email",
    "enter_password",
    "continue",
    "outlook_authenticated",
    "email_connected",
    "signature",
    "finish",
    "tour",
    "launch",
    "msi_panel_opened",
};

}  // namespace

std::string_view StepName(Step step) { return kStepNames[static_cast<int>(step)]; }

std::optional<Step> StepFromName(std::string_view name) {
  for (int i = 0; i < kStepCount; ++i) {
    if (kStepNames[i] == name) return static_cast<Step>(i);
  }
  return std::nullopt;
}

std::optional<Step> NextStep(Step done, std::string_view client) {
  if (done == kLastStep) return std::nullopt;
  // Outlook shows its own sign-in screen after Continue; Gmail goes straight to success.
  if (done == Step::kContinue && client != "outlook") return Step::kEmailConnected;
  return static_cast<Step>(static_cast<int>(done) + 1);
}

}  // namespace custody
