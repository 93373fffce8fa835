#include "projections/command_service.h"

#include "domain/instance.h"
#include "domain/onboarding.h"

namespace custody::projections {
namespace {

// A retry follows a commit on the same stream by a writer outside this process's turns (an
// import); it is rare, so a small bound only guards against a livelock.
constexpr int kMaxAttempts = 64;

// Reconstructs the refusal from a recorded command.rejected (for a repeated command_id).
std::optional<Refusal> RecordedRefusal(const std::vector<Event>& events) {
  for (const Event& event : events) {
    if (event.type != events::CommandRejected::kType) continue;
    auto payload = events::DecodeEvent(event);
    if (!payload.ok()) continue;
    const auto& rejected = std::get<events::CommandRejected>(*payload);
    return Refusal{rejected.rule, rejected.message, rejected.member.value_or(event.subject),
                   rejected.expected_step};
  }
  return std::nullopt;
}

CommandReply ReplyFor(std::vector<Event> events, bool duplicate) {
  CommandReply reply;
  reply.refusal = RecordedRefusal(events);
  reply.kind = reply.refusal ? CommandReply::Kind::kRejected : CommandReply::Kind::kRecorded;
  reply.duplicate = duplicate;
  reply.position = events.empty() ? 0 : events.back().position;
  reply.events = std::move(events);
  return reply;
}

}  // namespace

class CommandService::StreamTurns::Turn {
 public:
  Turn(StreamTurns& turns, const std::string& stream, Entry* entry)
      : turns_(turns), stream_(stream), entry_(entry) {
    entry_->mutex.lock();
  }
  Turn(const Turn&) = delete;
  Turn& operator=(const Turn&) = delete;
  ~Turn() {
    entry_->mutex.unlock();
    std::lock_guard lock(turns_.mutex_);
    if (--entry_->holders == 0) turns_.entries_.erase(stream_);
  }

 private:
  StreamTurns& turns_;
  const std::string& stream_;
  Entry* entry_;
};

CommandService::StreamTurns::Turn CommandService::StreamTurns::Take(const std::string& stream) {
  Entry* entry;
  {
    std::lock_guard lock(mutex_);
    auto& slot = entries_[stream];
    if (!slot) slot = std::make_unique<Entry>();
    ++slot->holders;
    entry = slot.get();
  }
  return Turn(*this, stream, entry);
}

// One decision on one view of the tenant: at which stream version, and what.
struct CommandService::Attempt {
  bool tenant_found = true;
  std::int64_t version = 0;
  std::string actor;
  std::string command_name;
  std::optional<std::string> step;
  Decision decision;
};

CommandService::CommandService(eventstore::EventStore& store, const Projections& projections,
                               Clock clock)
    : store_(store), projections_(projections), clock_(std::move(clock)) {}

Result<CommandReply> CommandService::Execute(const std::string& tenant,
                                             const DecodedCommand& decoded, const Source& source) {
  const commands::Command& command = decoded.command;
  const std::string stream = std::holds_alternative<commands::OnboardingStep>(command.body)
                                 ? OnboardingStream(tenant, command.actor)
                                 : InstanceStream(tenant);
  return Run(tenant, stream, decoded.options, source, [&](const TenantView* view) {
    Attempt attempt;
    attempt.actor = command.actor;
    attempt.command_name = commands::NameOf(command.body);
    if (view == nullptr || !view->instance.created) {
      attempt.tenant_found = false;
    } else if (const auto* step = std::get_if<commands::OnboardingStep>(&command.body)) {
      const auto found = view->onboarding.find(command.actor);
      const OnboardingState state =
          found == view->onboarding.end() ? OnboardingState{} : found->second.aggregate;
      attempt.version = state.version;
      attempt.step = std::string(StepName(step->step));
      attempt.decision = DecideOnboarding(view->instance, state, command.actor, *step);
    } else {
      attempt.version = view->instance.version;
      attempt.decision = DecideInstance(view->instance, command);
    }
    return attempt;
  });
}

Result<CommandReply> CommandService::CreateTenant(const DecodedCreateTenant& decoded,
                                                  const std::string& actor, const Source& source) {
  const std::string& tenant = decoded.command.tenant;
  return Run(tenant, InstanceStream(tenant), decoded.options, source, [&](const TenantView* view) {
    static const InstanceState kNoTenant;
    const InstanceState& state = view == nullptr ? kNoTenant : view->instance;
    Attempt attempt;
    attempt.actor = actor;
    attempt.command_name = "create_tenant";
    attempt.version = state.version;
    attempt.decision = DecideCreateTenant(state, decoded.command);
    return attempt;
  });
}

Result<CommandReply> CommandService::Run(const std::string& tenant, const std::string& stream,
                                         const CommandOptions& options, const Source& source,
                                         const std::function<Attempt(const TenantView*)>& decide) {
  if (!options.command_id.empty()) {
    auto first = store_.FindByCommandId(tenant, options.command_id);
    if (!first.ok()) return first.status();
    if (!first->empty()) return ReplyFor(std::move(first).value(), true);
  }
  const TimeMs occurred_at = options.occurred_at.value_or(clock_());

  const StreamTurns::Turn turn = turns_.Take(stream);
  for (int attempt_number = 0; attempt_number < kMaxAttempts; ++attempt_number) {
    // Decided in place under the projections' shared lock: a copy of a large tenant's view
    // would cost more than the decision.
    const Attempt attempt = projections_.ReadTenant(
        tenant, [&](const TenantView* view, std::int64_t) { return decide(view); });
    if (!attempt.tenant_found) {
      CommandReply reply;
      reply.kind = CommandReply::Kind::kTenantNotFound;
      return reply;
    }
    if (options.expected_version && *options.expected_version != attempt.version) {
      CommandReply reply;
      reply.kind = CommandReply::Kind::kVersionConflict;
      reply.expected_version = *options.expected_version;
      reply.actual_version = attempt.version;
      return reply;
    }

    eventstore::AppendRequest request;
    request.stream = stream;
    request.tenant = tenant;
    request.expected_version = attempt.version;
    request.command_id = options.command_id;
    auto envelope = [&](const events::Payload& payload, const std::string& subject) {
      Event event;
      event.stream = stream;
      event.type = events::TypeOf(payload);
      event.tenant = tenant;
      event.actor = attempt.actor;
      event.subject = subject;
      event.occurred_at = occurred_at;
      event.command_id = options.command_id;
      event.correlation_id =
          options.correlation_id.empty() ? options.command_id : options.correlation_id;
      event.source = source;
      event.data = events::EncodeData(payload);
      return event;
    };
    if (const auto* refusal = std::get_if<Refusal>(&attempt.decision)) {
      const events::CommandRejected rejected{attempt.command_name, refusal->rule,
                                             refusal->message,     refusal->member,
                                             attempt.step,         refusal->expected_step};
      request.events.push_back(envelope(rejected, refusal->member));
    } else {
      for (const Fact& fact : std::get<std::vector<Fact>>(attempt.decision)) {
        request.events.push_back(envelope(fact.payload, fact.subject));
      }
    }

    auto appended = store_.Append(std::move(request));
    if (!appended.ok()) return appended.status();
    switch (appended->outcome) {
      case eventstore::AppendResult::Outcome::kAppended:
        return ReplyFor(std::move(appended->events), false);
      case eventstore::AppendResult::Outcome::kDuplicate:
        return ReplyFor(std::move(appended->events), true);
      case eventstore::AppendResult::Outcome::kVersionConflict:
        if (options.expected_version) {
          CommandReply reply;
          reply.kind = CommandReply::Kind::kVersionConflict;
          reply.expected_version = *options.expected_version;
          reply.actual_version = appended->stream_version;
          return reply;
        }
        break;  // a concurrent command won: decide again on the newer state
    }
  }
  return Status::Busy("the stream '" + tenant +
                      "' is changing too fast to decide this command; try again");
}

}  // namespace custody::projections
