#include "bench/history.h"

#include <cstdio>

#include "domain/instance.h"
#include "domain/onboarding.h"
#include "eventstore/event_format.h"

namespace custody::bench {
namespace {

// Setup of one tenant: create it (two events), invite the second admin and the nine onboarding
// members, connect both admins (the first is the owner, the second stands by).
constexpr int kSetupCommands = 1 + 1 + kMembersPerTenant + 2;
// After setup, every third command of a tenant is an onboarding step.
constexpr int kOnboardingEvery = 3;

std::string Id(std::int64_t n) {
  // UUIDv7-shaped and unique; the store only needs valid UTF-8 here.
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "0190bc00-%04llx-7%03llx-8%03llx-%012llx",
                static_cast<unsigned long long>((n >> 40) & 0xffff),
                static_cast<unsigned long long>((n >> 28) & 0xfff),
                static_cast<unsigned long long>((n >> 16) & 0xfff),
                static_cast<unsigned long long>(n & 0xffffffffffffULL));
  return buffer;
}

commands::OnboardingStep StepCommand(Step step, int member) {
  commands::OnboardingStep c;
  c.step = step;
  const std::string email = Email("member" + std::to_string(member), "salesforce");
  switch (step) {
    case Step::kActivateWithSalesforce:
      c.api_enabled = true;
      break;
    case Step::kSalesforceAllow:
      c.sales_email = email;
      c.salesforce_email = email;
      break;
    case Step::kChooseEmailClient:
      c.client = member % 2 == 0 ? "outlook" : "gmail";
      break;
    case Step::kEnterEmail:
      c.email = email;
      break;
    case Step::kSignature:
      c.skipped = false;
      break;
    case Step::kTour:
      c.choice = "viewed";
      break;
    case Step::kLaunch:
      c.target = "web_app";
      break;
    case Step::kMsiPanelOpened:
      c.record = "lead";
      break;
    default:
      break;
  }
  return c;
}

}  // namespace

std::string TenantName(int tenant) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "t%04d", tenant);
  return buffer;
}
std::string MemberName(int member) { return "m" + std::to_string(member); }
std::string TransientName(std::int64_t n) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "u%06lld.jordan.contractor", static_cast<long long>(n));
  return buffer;
}
std::string AdminName(int admin) { return admin == 0 ? "alice.admin" : "bob.admin"; }

std::string Email(const std::string& who, const std::string& tenant) {
  return who + ".sales-operations@" + tenant + ".customer-workspace.example.com";
}

HistoryGenerator::HistoryGenerator(int streams, TimeMs start)
    : tenants_(std::max(1, (streams + kStreamsPerTenant - 1) / kStreamsPerTenant)),
      start_(start),
      head_hash_(eventstore::kGenesisHash) {}

std::vector<Event> HistoryGenerator::Generate(std::int64_t count) {
  std::vector<Event> events;
  events.reserve(static_cast<std::size_t>(count) + 4);
  while (static_cast<std::int64_t>(events.size()) < count) Next(&events);
  return events;
}

void HistoryGenerator::Next(std::vector<Event>* out) {
  const int tenant = static_cast<int>(commands_ % tenants_);
  const std::int64_t round = commands_ / tenants_;
  Record(tenant, Decide(tenant, round), out);
  ++commands_;
}

HistoryGenerator::Command HistoryGenerator::Decide(int tenant, std::int64_t round) {
  if (round < kSetupCommands) return DecideSetup(tenant, round);
  const std::int64_t r = round - kSetupCommands;
  if (r % kOnboardingEvery == kOnboardingEvery - 1) {
    return DecideOnboarding(tenant,
                            static_cast<int>((r / kOnboardingEvery) % kMembersPerTenant) + 1);
  }
  return DecideCycle(tenant, r - r / kOnboardingEvery);
}

HistoryGenerator::Command HistoryGenerator::DecideSetup(int tenant, std::int64_t round) {
  const std::string name = TenantName(tenant);
  const projections::TenantView& view = state_.tenants[name];
  Command c;
  c.stream = InstanceStream(name);
  c.actor = AdminName(0);
  if (round == 0) {
    c.name = "create_tenant";
    c.decision = DecideCreateTenant(view.instance, {name, AdminName(0), Email(AdminName(0), name)});
    return c;
  }
  commands::Command command{AdminName(0), commands::ConnectMarketo{}};
  if (round == 1) {
    command.body = commands::InviteMember{AdminName(1), Email(AdminName(1), name), "admin"};
  } else if (round < 2 + kMembersPerTenant) {
    const int member = static_cast<int>(round) - 1;
    command.body =
        commands::InviteMember{MemberName(member), Email(MemberName(member), name), "user"};
  } else if (round == kSetupCommands - 1) {
    command.actor = AdminName(1);
  }
  c.actor = command.actor;
  c.name = commands::NameOf(command.body);
  c.decision = DecideInstance(view.instance, command);
  return c;
}

// A cycle of seven instance commands: a transient member is invited, granted access, revoked,
// removed; the owner hands over by disconnecting and reconnects as the standby; finally a
// grant to the removed member is refused.
HistoryGenerator::Command HistoryGenerator::DecideCycle(int tenant, std::int64_t k) {
  const std::string name = TenantName(tenant);
  const InstanceState& instance = state_.tenants[name].instance;
  const std::int64_t cycle = k / 7;
  const std::string transient = TransientName(cycle);
  const std::string owner = instance.owner() ? instance.owner()->admin : AdminName(0);
  commands::Command command{AdminName(0), commands::ConnectMarketo{}};
  switch (k % 7) {
    case 0:
      command.body = commands::InviteMember{transient, Email(transient, name), "user"};
      break;
    case 1:
      command = {owner, commands::GrantMarketoAccess{transient}};
      break;
    case 2:
      command = {owner, commands::RevokeMarketoAccess{transient}};
      break;
    case 3:
      command.body = commands::RemoveMember{transient};
      break;
    case 4:
      command = {owner, commands::DisconnectMarketo{}};
      break;
    case 5:
      // The previous owner: the one of the two admins who is not connected now.
      command.actor = instance.is_connected(AdminName(0)) ? AdminName(1) : AdminName(0);
      break;
    default:
      command = {owner, commands::GrantMarketoAccess{transient}};
      break;
  }
  Command c;
  c.stream = InstanceStream(name);
  c.actor = command.actor;
  c.name = commands::NameOf(command.body);
  c.decision = DecideInstance(instance, command);
  return c;
}

HistoryGenerator::Command HistoryGenerator::DecideOnboarding(int tenant, int member) {
  const std::string name = TenantName(tenant);
  const projections::TenantView& view = state_.tenants[name];
  const std::string actor = MemberName(member);
  const auto found = view.onboarding.find(actor);
  const OnboardingState state =
      found == view.onboarding.end() ? OnboardingState{} : found->second.aggregate;
  // Once done, the member keeps clicking Get Started: refused, and recorded.
  const Step step = NextStep(state.done, state.client).value_or(Step::kGetStarted);
  const commands::OnboardingStep command = StepCommand(step, member);
  Command c;
  c.stream = OnboardingStream(name, actor);
  c.actor = actor;
  c.name = commands::OnboardingStep::kName;
  c.step = std::string(StepName(step));
  c.decision = custody::DecideOnboarding(view.instance, state, actor, command);
  return c;
}

void HistoryGenerator::Record(int tenant, const Command& command, std::vector<Event>* out) {
  const std::string name = TenantName(tenant);
  const std::string command_id = "cmd-" + std::to_string(commands_);
  const TimeMs time = start_ + commands_ * 3;
  auto record = [&](const events::Payload& payload, const std::string& subject) {
    Event e;
    e.position = ++position_;
    e.id = Id(e.position);
    e.stream = command.stream;
    e.version = ++versions_[command.stream];
    e.type = events::TypeOf(payload);
    e.tenant = name;
    e.actor = command.actor;
    e.subject = subject;
    e.occurred_at = time;
    e.recorded_at = time;
    e.command_id = command_id;
    e.correlation_id = command_id;
    e.source = Source{"127.0.0.1", "custody-bench/1.0", ""};
    e.data = events::EncodeData(payload);
    e.prev_hash = head_hash_;
    e.hash = eventstore::ChainHash(head_hash_, e);
    head_hash_ = e.hash;
    (void)projections::ApplyEvent(state_, e);
    out->push_back(std::move(e));
  };
  if (const auto* refusal = std::get_if<Refusal>(&command.decision)) {
    record(events::CommandRejected{command.name, refusal->rule, refusal->message, refusal->member,
                                   command.step, refusal->expected_step, std::nullopt},
           refusal->member);
  } else {
    for (const Fact& fact : std::get<std::vector<Fact>>(command.decision)) {
      record(fact.payload, fact.subject);
    }
  }
}

}  // namespace custody::bench
