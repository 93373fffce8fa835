#pragma once

// Everything custody answers about one tenant, rebuilt from its events: the instance aggregate
// (members, Marketo connection), each member's onboarding, the chain of custody.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <cereal/types/array.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "domain/event.h"
#include "domain/events.h"
#include "domain/instance.h"
#include "domain/onboarding.h"

namespace custody::projections {

struct OnboardingProgress {
  OnboardingState aggregate;  // what decide needs: last step done, client, stream version
  std::array<std::optional<TimeMs>, kStepCount> step_times{};  // when each step was done
  std::string blocked;  // the rule that refused the member's last attempt; empty once they move on
  TimeMs updated_at = 0;

  template <class A>
  void serialize(A& a) {
    a(aggregate, step_times, blocked, updated_at);
  }
  bool operator==(const OnboardingProgress&) const = default;
};

// One owner's time holding the Marketo connection.
struct CustodyPeriod {
  std::string owner;
  TimeMs from = 0;
  std::optional<TimeMs> to;  // open while they still own it
  std::int64_t from_position = 0;
  std::optional<std::int64_t> to_position;
  std::string ended_by;  // "ownership_transferred" or "integration_down"; empty while open

  template <class A>
  void serialize(A& a) {
    a(owner, from, to, from_position, to_position, ended_by);
  }
  bool operator==(const CustodyPeriod&) const = default;
};

struct TenantView {
  InstanceState instance;
  // By member, from invitation on; std::less<> finds a member by a part of the stream's name.
  std::map<std::string, OnboardingProgress, std::less<>> onboarding;
  std::vector<CustodyPeriod> custody;
  std::int64_t last_position = 0;  // the tenant's newest event applied

  template <class A>
  void serialize(A& a) {
    a(instance, onboarding, custody, last_position);
  }
  bool operator==(const TenantView&) const = default;
};

// Applies one event of the tenant (either stream). Events must come in position order.
void Apply(TenantView& view, const Event& event, const events::Payload& payload);

}  // namespace custody::projections
