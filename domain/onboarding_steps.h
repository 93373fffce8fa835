#pragma once

// The 17 steps of Marketo Sales Insight Actions onboarding, plus step 0 (invited).

#include <optional>
#include <string>
#include <string_view>

namespace custody {

enum class Step : int {
  kInvited = 0,
  kGetStarted,
  kActivateWithSalesforce,
  kSalesforceLogin,
  kSalesforceAllow,
  kStart,
  kNext,
  kChooseEmailClient,
  kEnterEmail,
  kEnterPassword,
  kContinue,
  kOutlookAuthenticated,
  kEmailConnected,
  kSignature,
  kFinish,
  kTour,
  kLaunch,
  kMsiPanelOpened,  // onboarding complete
};

inline constexpr int kStepCount = 18;
inline constexpr Step kLastStep = Step::kMsiPanelOpened;

// "get_started", "msi_panel_opened", ...
std::string_view StepName(Step step);
std::optional<Step> StepFromName(std::string_view name);

// The step that must come after `done` for a member who chose `client` ("gmail", "outlook" or
// empty when not chosen yet). nullopt once onboarding is complete.
std::optional<Step> NextStep(Step done, std::string_view client);

}  // namespace custody
