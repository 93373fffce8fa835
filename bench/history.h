#pragma once

// A deterministic history of domain-valid custody events for the benchmarks: tenants with an
// instance stream and onboarding streams, commands decided by the real domain rules (refusals
// are recorded as command.rejected, as the command service does), chained with SHA-256 as the
// store would. Streams are interleaved: consecutive commands go to different tenants.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/decision.h"
#include "domain/event.h"
#include "projections/projections.h"

namespace custody::bench {

// Ten streams per tenant: the instance stream and nine members' onboarding streams.
inline constexpr int kStreamsPerTenant = 10;
inline constexpr int kMembersPerTenant = kStreamsPerTenant - 1;

std::string TenantName(int tenant);         // "t0042"
std::string MemberName(int member);         // "m3": onboarding members are m1..m9
std::string TransientName(std::int64_t n);  // "u000123...": invited, then removed
std::string AdminName(int admin);           // the two admins, 0 and 1
std::string Email(const std::string& who, const std::string& tenant);

class HistoryGenerator {
 public:
  // `streams` is rounded up to a multiple of kStreamsPerTenant.
  explicit HistoryGenerator(int streams, TimeMs start = 1767225600000 /* 2026-01-01 */);

  // Decides the next command and appends its events (one or more), fully stored form.
  void Next(std::vector<Event>* out);
  // Events until at least `count` have been produced.
  std::vector<Event> Generate(std::int64_t count);

  int tenants() const { return tenants_; }

 private:
  struct Command {
    std::string stream;
    std::string actor;
    std::string name;
    std::optional<std::string> step;
    Decision decision;
  };
  Command Decide(int tenant, std::int64_t round);
  Command DecideSetup(int tenant, std::int64_t round);
  Command DecideCycle(int tenant, std::int64_t round);
  Command DecideOnboarding(int tenant, int member);
  void Record(int tenant, const Command& command, std::vector<Event>* out);

  int tenants_;
  TimeMs start_;
  std::int64_t commands_ = 0;
  std::int64_t position_ = 0;
  std::string head_hash_;
  projections::State state_;
  std::unordered_map<std::string, std::int64_t> versions_;
};

}  // namespace custody::bench
