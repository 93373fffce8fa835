#include "projections/command_service.h"

#include <future>

#include "domain/instance.h"
#include "domain/onboarding.h"

namespace custody::projections {
namespace {

// A retry follows a commit on the same stream by a writer outside this process's turns, which
// the store's writer lock leaves to a process that ignores it; a small bound only guards
// against a livelock.
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

void CommandService::StreamTurns::Enter(const std::string& stream, Turn turn) {
  {
    std::lock_guard lock(mutex_);
    auto [entry, is_free] = busy_.try_emplace(stream);
    if (!is_free) {
      entry->second.push_back(std::move(turn));
      return;
    }
  }
  RunFrom(stream, std::move(turn));
}

void CommandService::StreamTurns::Leave(const std::string& stream) {
  if (Turn next = Next(stream)) RunFrom(stream, std::move(next));
}

CommandService::StreamTurns::Turn CommandService::StreamTurns::Next(const std::string& stream) {
  std::lock_guard lock(mutex_);
  const auto entry = busy_.find(stream);
  if (entry == busy_.end()) return {};
  if (entry->second.empty()) {
    busy_.erase(entry);
    return {};
  }
  Turn next = std::move(entry->second.front());
  entry->second.pop_front();
  return next;
}

// A loop rather than a recursion: many queued turns that end at once (refused without an
// append) must not grow the stack.
void CommandService::StreamTurns::RunFrom(const std::string& stream, Turn turn) {
  while (turn && turn()) turn = Next(stream);
}

void CommandService::WaitUntilIdle() {
  std::unique_lock lock(running_mutex_);
  none_running_.wait(lock, [this] { return running_ == 0; });
}

// One decision on one view of the tenant: at which stream version, and what.
struct CommandService::Attempt {
  bool tenant_found = true;
  std::int64_t version = 0;
  std::string actor;
  std::string command_name;
  std::optional<std::string> step;
  std::optional<std::string> target;  // the member the command names
  Decision decision;
};

// One command on its way: what it needs until its reply, whichever thread continues it.
struct CommandService::Pending {
  std::string tenant;
  std::string stream;
  // The onboarding stream of the member an invitation or a removal names: its steps are
  // decided on that membership, so the command holds that stream's turn too.
  std::string member_stream;
  CommandOptions options;
  Source source;
  std::function<Attempt(const TenantView*)> decide;
  Done done;
  TimeMs occurred_at = 0;
  int attempts = 0;
};

CommandService::CommandService(eventstore::EventStore& store, const Projections& projections,
                               Clock clock)
    : store_(store), projections_(projections), clock_(std::move(clock)) {}

CommandService::~CommandService() {
  WaitUntilIdle();
  // The last reply may have been handed over on the writer thread, which then still ends that
  // command's turn here: wait until it is past that too.
  store_.Drain();
}

void CommandService::ExecuteAsync(const std::string& tenant, DecodedCommand decoded, Source source,
                                  Done done) {
  std::string stream = std::holds_alternative<commands::OnboardingStep>(decoded.command.body)
                           ? OnboardingStream(tenant, decoded.command.actor)
                           : InstanceStream(tenant);
  std::string member_stream;
  if (std::holds_alternative<commands::InviteMember>(decoded.command.body) ||
      std::holds_alternative<commands::RemoveMember>(decoded.command.body)) {
    member_stream = OnboardingStream(tenant, *commands::TargetOf(decoded.command.body));
  }
  auto decide = [command = std::move(decoded.command)](const TenantView* view) {
    Attempt attempt;
    attempt.actor = command.actor;
    attempt.command_name = commands::NameOf(command.body);
    attempt.target = commands::TargetOf(command.body);
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
  };
  Start(Pending{tenant, std::move(stream), std::move(member_stream), std::move(decoded.options),
                std::move(source), std::move(decide), std::move(done)});
}

void CommandService::CreateTenantAsync(DecodedCreateTenant decoded, std::string actor,
                                       Source source, Done done) {
  std::string tenant = decoded.command.tenant;
  std::string stream = InstanceStream(tenant);
  auto decide = [command = std::move(decoded.command),
                 actor = std::move(actor)](const TenantView* view) {
    static const InstanceState kNoTenant;
    const InstanceState& state = view == nullptr ? kNoTenant : view->instance;
    Attempt attempt;
    attempt.actor = actor;
    attempt.command_name = commands::CreateTenant::kName;
    attempt.version = state.version;
    attempt.decision = DecideCreateTenant(state, command);
    return attempt;
  };
  Start(Pending{std::move(tenant),
                std::move(stream),
                {},
                std::move(decoded.options),
                std::move(source),
                std::move(decide),
                std::move(done)});
}

namespace {

// Waits for an asynchronous command's outcome.
template <typename Launch>
Result<CommandReply> WaitFor(Launch launch) {
  // Shared with the callback: the writer may still be inside set_value when get() returns.
  auto promise = std::make_shared<std::promise<Result<CommandReply>>>();
  std::future<Result<CommandReply>> outcome = promise->get_future();
  launch([promise](Result<CommandReply> reply) { promise->set_value(std::move(reply)); });
  return outcome.get();
}

}  // namespace

Result<CommandReply> CommandService::Execute(const std::string& tenant,
                                             const DecodedCommand& command, const Source& source) {
  return WaitFor([&](Done done) { ExecuteAsync(tenant, command, source, std::move(done)); });
}

Result<CommandReply> CommandService::CreateTenant(const DecodedCreateTenant& command,
                                                  const std::string& actor, const Source& source) {
  return WaitFor([&](Done done) { CreateTenantAsync(command, actor, source, std::move(done)); });
}

void CommandService::Start(Pending command) {
  auto pending = std::make_shared<Pending>(std::move(command));
  {
    std::lock_guard lock(running_mutex_);
    ++running_;
  }
  try {
    const CommandOptions& options = pending->options;
    if (RepliedAsRepeat(pending)) return;
    pending->occurred_at = options.occurred_at.value_or(clock_());
    const std::string stream = pending->stream;
    if (pending->member_stream.empty()) {
      turns_.Enter(stream, [this, pending] { return Decide(pending); });
    } else {
      // The member's turn first, then the instance's. Steps take only the former and other
      // instance commands only the latter, so no two commands ever wait for each other.
      turns_.Enter(pending->member_stream, [this, pending] {
        turns_.Enter(pending->stream, [this, pending] {
          const bool ended = Decide(pending);
          if (ended) turns_.Leave(pending->member_stream);
          return ended;
        });
        return false;  // held until the command ends
      });
    }
  } catch (const std::exception& e) {  // counted as running: it must be replied to
    Reply(pending, Status::IOError(std::string("starting the command failed: ") + e.what()));
  }
}

// Runs on the thread that gave this command its turn: the caller's, or the writer's.
bool CommandService::Decide(const std::shared_ptr<Pending>& pending) {
  eventstore::AppendRequest request;
  try {
    const CommandOptions& options = pending->options;
    // Decided in place under the projections' shared lock: a copy of a large tenant's view
    // would cost more than the decision.
    const Attempt attempt = projections_.ReadTenant(
        pending->tenant,
        [&](const TenantView* view, std::int64_t) { return pending->decide(view); });
    if (!attempt.tenant_found) {
      CommandReply reply;
      reply.kind = CommandReply::Kind::kTenantNotFound;
      Reply(pending, std::move(reply));
      return true;
    }
    if (options.expected_version && *options.expected_version != attempt.version) {
      // A repeat of this command id may have been recorded while this one waited for its turn
      // (a retry racing its own first attempt): that is a repeat, not a conflict.
      if (RepliedAsRepeat(pending)) return true;
      CommandReply reply;
      reply.kind = CommandReply::Kind::kVersionConflict;
      reply.expected_version = *options.expected_version;
      reply.actual_version = attempt.version;
      Reply(pending, std::move(reply));
      return true;
    }

    request.stream = pending->stream;
    request.tenant = pending->tenant;
    request.expected_version = attempt.version;
    request.command_id = options.command_id;
    auto envelope = [&](const events::Payload& payload, const std::string& subject) {
      Event event;
      event.stream = pending->stream;
      event.type = events::TypeOf(payload);
      event.tenant = pending->tenant;
      event.actor = attempt.actor;
      event.subject = subject;
      event.occurred_at = pending->occurred_at;
      event.command_id = options.command_id;
      event.correlation_id =
          options.correlation_id.empty() ? options.command_id : options.correlation_id;
      event.source = pending->source;
      event.data = events::EncodeData(payload);
      return event;
    };
    if (const auto* refusal = std::get_if<Refusal>(&attempt.decision)) {
      const events::CommandRejected rejected{
          attempt.command_name, refusal->rule,          refusal->message, refusal->member,
          attempt.step,         refusal->expected_step, attempt.target};
      request.events.push_back(envelope(rejected, refusal->member));
    } else {
      for (const Fact& fact : std::get<std::vector<Fact>>(attempt.decision)) {
        request.events.push_back(envelope(fact.payload, fact.subject));
      }
    }
  } catch (const std::exception& e) {
    // The turn must end whatever happens, or the stream would wait for ever.
    Reply(pending, Status::IOError(std::string("deciding failed: ") + e.what()));
    return true;
  }
  const Status queued = store_.AppendAsync(
      std::move(request), [this, pending](Result<eventstore::AppendResult> result) {
        if (OnAppended(pending, std::move(result))) {
          turns_.Leave(pending->stream);
          if (!pending->member_stream.empty()) turns_.Leave(pending->member_stream);
        }
      });
  if (queued.ok()) return false;
  Reply(pending, queued);
  return true;
}

bool CommandService::OnAppended(const std::shared_ptr<Pending>& pending,
                                Result<eventstore::AppendResult> appended) {
  if (!appended.ok()) {
    Reply(pending, appended.status());
    return true;
  }
  switch (appended->outcome) {
    case eventstore::AppendResult::Outcome::kAppended:
    case eventstore::AppendResult::Outcome::kDuplicate:
      Reply(pending, ReplyFor(std::move(appended->events),
                              appended->outcome == eventstore::AppendResult::Outcome::kDuplicate));
      return true;
    case eventstore::AppendResult::Outcome::kVersionConflict:
      if (pending->options.expected_version) {
        CommandReply reply;
        reply.kind = CommandReply::Kind::kVersionConflict;
        reply.expected_version = *pending->options.expected_version;
        reply.actual_version = appended->stream_version;
        Reply(pending, std::move(reply));
        return true;
      }
      // A writer outside this process's turns won: decide again on the newer state, still
      // holding the turn.
      if (++pending->attempts < kMaxAttempts) return Decide(pending);
      Reply(pending, Status::Busy("the stream '" + pending->stream +
                                  "' is changing too fast to decide this command; try again"));
      return true;
  }
  return true;
}

bool CommandService::RepliedAsRepeat(const std::shared_ptr<Pending>& pending) {
  if (pending->options.command_id.empty()) return false;
  auto first = store_.FindByCommandId(pending->tenant, pending->options.command_id);
  if (!first.ok()) {
    Reply(pending, first.status());
    return true;
  }
  if (first->empty()) return false;
  Reply(pending, ReplyFor(std::move(first).value(), true));
  return true;
}

void CommandService::Reply(const std::shared_ptr<Pending>& pending, Result<CommandReply> reply) {
  // Taken out of the command and gone before it stops counting as running: whatever `done`
  // holds (an HTTP session, say) is released by the time WaitUntilIdle returns, although the
  // command itself may live on until the writer lets go of its append.
  {
    const Done done = std::move(pending->done);
    try {
      done(std::move(reply));
    } catch (...) {  // the caller's failure is its own; the stream's turn must still end
    }
  }
  std::lock_guard lock(running_mutex_);
  if (--running_ == 0) none_running_.notify_all();
}

}  // namespace custody::projections
