// Rebuild equals incremental, restart from the checkpoint, and the command service's
// idempotency, version checks and concurrency.

#include <gtest/gtest.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/map.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "projections/replay.h"
#include "tests/projections/fixture.h"

namespace custody::testing {
namespace {

using Kind = projections::CommandReply::Kind;

// Plays `count` random commands over a few tenants; most are refused, which is also history.
void PlayRandomCommands(
    std::uint32_t seed, int count,
    const std::function<projections::CommandReply(const std::string&, const std::string&)>& run) {
  std::mt19937 random(seed);
  const std::vector<std::string> tenants = {"acme", "globex", "initech"};
  const std::vector<std::string> people = {"alice", "bob", "carol", "dave", "erin"};
  const std::vector<std::string> steps = {
      "get_started", "activate_with_salesforce", "salesforce_login", "salesforce_allow", "start",
      "next",        "choose_email_client"};
  auto pick = [&](const auto& values) { return values[random() % values.size()]; };
  for (int i = 0; i < count; ++i) {
    const std::string tenant = pick(tenants);
    const std::string actor = pick(people);
    const std::string member = pick(people);
    std::string body;
    switch (random() % 8) {
      case 0:
        body = Invite(actor, member, random() % 2 ? "admin" : "user");
        break;
      case 1:
        body = OnMember("remove_member", actor, member);
        break;
      case 2:
        body = Simple("connect_marketo", actor);
        break;
      case 3:
        body = Simple("disconnect_marketo", actor);
        break;
      case 4:
        body = OnMember("grant_marketo_access", actor, member);
        break;
      case 5:
        body = OnMember("revoke_marketo_access", actor, member);
        break;
      default: {
        const std::string step = pick(steps);
        std::string extra;
        if (step == "activate_with_salesforce")
          extra = random() % 4 ? R"("api_enabled":true)" : R"("api_enabled":false)";
        if (step == "salesforce_allow") {
          extra = R"("sales_email":"a@x.example","salesforce_email":")" +
                  std::string(random() % 4 ? "A@X.example" : "b@x.example") + "\"";
        }
        if (step == "choose_email_client") extra = R"("client":"outlook")";
        body = StepBody(actor, step, extra);
      }
    }
    run(tenant, body);
  }
}

class Rebuild : public AppFixture {};

TEST_F(Rebuild, ReplayingTheLogGivesTheSameBytesAsTheIncrementalPath) {
  for (const char* tenant : {"acme", "globex", "initech"}) CreateTenant(tenant, "alice");
  PlayRandomCommands(20261121, 3000, [&](const std::string& tenant, const std::string& body) {
    return Run(tenant, body);
  });
  ASSERT_GT(app_->store->HeadPosition(), 3000);

  const projections::State incremental = app_->projections->Copy();
  auto rebuilt = projections::Rebuild(*app_->store, "", std::nullopt);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(rebuilt->position, app_->store->HeadPosition());
  EXPECT_EQ(projections::SerializeState(*rebuilt), projections::SerializeState(incremental));

  // And one tenant rebuilt alone equals that tenant in the whole.
  auto acme = projections::Rebuild(*app_->store, "acme", std::nullopt);
  ASSERT_TRUE(acme.ok());
  EXPECT_EQ(acme->tenants.at("acme"), incremental.tenants.at("acme"));
}

TEST_F(Rebuild, ReplayingOnSeveralThreadsGivesTheSameBytes) {
  for (const char* tenant : {"acme", "globex", "initech", "umbrella"}) {
    CreateTenant(tenant, "alice");
  }
  PlayRandomCommands(7, 1500, [&](const std::string& tenant, const std::string& body) {
    return Run(tenant, body);
  });
  const std::string incremental = projections::SerializeState(app_->projections->Copy());
  const std::int64_t middle = app_->store->HeadPosition() / 2;
  for (std::size_t appliers : {1, 2, 3, 7}) {
    const projections::ReplayThreads threads{0, appliers};
    projections::State whole;
    auto replayed = projections::ReplayInto(*app_->store, 0, std::nullopt, "", whole, threads);
    ASSERT_TRUE(replayed.ok()) << replayed.status().ToString();
    EXPECT_EQ(*replayed, app_->store->HeadPosition());
    EXPECT_EQ(projections::SerializeState(whole), incremental) << appliers << " appliers";

    // From a state part-way, as a start after a checkpoint does.
    projections::State resumed;
    ASSERT_TRUE(projections::ReplayInto(*app_->store, 0, middle, "", resumed, threads).ok());
    EXPECT_EQ(resumed.position, middle);
    ASSERT_TRUE(
        projections::ReplayInto(*app_->store, middle, std::nullopt, "", resumed, threads).ok());
    EXPECT_EQ(projections::SerializeState(resumed), incremental) << appliers << " appliers";
  }
}

// Snapshots of this code version written before the tenants were hashed hold them as a
// std::map: the bytes must not change, whatever the order the tenants were added in.
TEST_F(Rebuild, SnapshotBytesListTenantsInNameOrderAsAMapDid) {
  for (const char* tenant : {"initech", "acme", "umbrella", "globex", "hooli"}) {
    CreateTenant(tenant, "alice");
    Record(tenant, Invite("alice", std::string("bob-") + tenant, "user"));
  }
  const projections::State state = app_->projections->Copy();
  ASSERT_EQ(state.tenants.size(), 5u);

  const std::map<std::string, projections::TenantView> ordered(state.tenants.begin(),
                                                               state.tenants.end());
  std::ostringstream expected;
  {
    cereal::PortableBinaryOutputArchive archive(expected);
    archive(ordered, state.position);
  }
  const std::string bytes = projections::SerializeState(state);
  EXPECT_EQ(bytes, expected.str());
  auto loaded = projections::DeserializeState(bytes);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(*loaded, state);
}

TEST_F(Rebuild, RestartReplaysOnlyWhatFollowsTheCheckpoint) {
  CreateTenant("acme", "alice");
  for (int i = 0; i < 20; ++i) Record("acme", Invite("alice", "m" + std::to_string(i), "user"));
  ASSERT_TRUE(app_->projections->Checkpoint().ok());
  const std::int64_t checkpoint = app_->store->HeadPosition();
  for (int i = 20; i < 25; ++i) Record("acme", Invite("alice", "m" + std::to_string(i), "user"));
  const projections::State before = app_->projections->Copy();

  // Reopen without the destructor's final checkpoint, as after a crash.
  app_->projections.reset();
  Reopen();
  EXPECT_EQ(app_->projections->replayed_on_open(), app_->store->HeadPosition() - checkpoint);
  EXPECT_EQ(app_->projections->Copy(), before);
}

TEST_F(Rebuild, SnapshotOfAnotherCodeVersionIsRebuiltFromTheLog) {
  CreateTenant("acme", "alice");
  Record("acme", Invite("alice", "bob", "admin"));
  const projections::State before = app_->projections->Copy();
  ASSERT_TRUE(
      app_->store
          ->SaveSnapshot({projections::kSnapshotName, projections::kProjectionCodeVersion + 1,
                          app_->store->HeadPosition(), "not what this code wrote"})
          .ok());
  app_->projections.reset();
  Reopen();
  EXPECT_EQ(app_->projections->replayed_on_open(), app_->store->HeadPosition());
  EXPECT_EQ(app_->projections->Copy(), before);
}

TEST_F(AppFixture, RepeatedCommandIdReturnsTheFirstResultAndAppendsNothing) {
  CreateTenant("acme", "alice");
  const std::string body =
      R"({"command":"invite_member","actor":"alice","member":"bob","email":"b@x.example","role":"admin","command_id":"c-1"})";
  const auto first = Run("acme", body);
  ASSERT_EQ(first.kind, Kind::kRecorded);
  EXPECT_FALSE(first.duplicate);
  const std::int64_t head = app_->store->HeadPosition();
  const auto again = Run("acme", body);
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.events, first.events);
  EXPECT_EQ(app_->store->HeadPosition(), head);

  // A refused command repeated is refused again, still without a second record.
  const std::string refused =
      R"({"command":"connect_marketo","actor":"nobody","command_id":"c-2"})";
  EXPECT_EQ(Run("acme", refused).kind, Kind::kRejected);
  const auto refused_again = Run("acme", refused);
  EXPECT_EQ(refused_again.kind, Kind::kRejected);
  EXPECT_TRUE(refused_again.duplicate);
  EXPECT_EQ(refused_again.refusal->rule, "unknown_member");
  EXPECT_EQ(app_->store->HeadPosition(), head + 1);
}

TEST_F(AppFixture, ExpectedVersionMismatchIsAConflictAndRecordsNothing) {
  CreateTenant("acme", "alice");  // instance stream at version 2
  const std::int64_t head = app_->store->HeadPosition();
  const auto stale =
      Run("acme", R"({"command":"connect_marketo","actor":"alice","expected_version":1})");
  EXPECT_EQ(stale.kind, Kind::kVersionConflict);
  EXPECT_EQ(stale.expected_version, 1);
  EXPECT_EQ(stale.actual_version, 2);
  EXPECT_EQ(app_->store->HeadPosition(), head);
  EXPECT_EQ(
      Run("acme", R"({"command":"connect_marketo","actor":"alice","expected_version":2})").kind,
      Kind::kRecorded);
}

TEST_F(AppFixture, UnknownTenantIsNotFound) {
  EXPECT_EQ(Run("nowhere", Simple("connect_marketo", "alice")).kind, Kind::kTenantNotFound);
  EXPECT_EQ(app_->store->HeadPosition(), 0);
}

TEST_F(AppFixture, ConcurrentCommandsOnOneStreamAreAllDecidedOnFreshState) {
  CreateTenant("acme", "alice");
  constexpr int kThreads = 8, kEach = 15;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Record("acme", Invite("alice", "m" + std::to_string(t) + "-" + std::to_string(i), "user"));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto view = View("acme");
  EXPECT_EQ(view.instance.members.size(), 1u + kThreads * kEach);
  EXPECT_EQ(view.instance.version, 2 + kThreads * kEach);
}

// Async commands on one stream queue for their turn in arrival order: each is decided on the
// state its predecessor left, so a member's steps sent back to back all pass in order.
TEST_F(AppFixture, AsyncCommandsOnOneStreamAreDecidedInArrivalOrder) {
  CreateTenant("acme", "alice");
  Record("acme", Invite("alice", "bob", "user"));
  const std::vector<std::string> bodies = {
      StepBody("bob", "get_started"),
      StepBody("bob", "activate_with_salesforce", R"("api_enabled":true)"),
      StepBody("bob", "salesforce_login"),
      StepBody("bob", "salesforce_allow",
               R"("sales_email":"bob@example.com","salesforce_email":"bob@example.com")"),
      StepBody("bob", "start"),
      StepBody("bob", "get_started"),  // repeated: refused, after the steps before it
  };
  const std::vector<Answer> replies = RunTogether("acme", bodies);
  ASSERT_EQ(replies.size(), bodies.size());
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto& [index, reply] = replies[i];
    EXPECT_EQ(index, i) << "answers come in arrival order";
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->events.size(), 1u);
    EXPECT_EQ(reply->events[0].stream, "acme/onboarding/bob");
    EXPECT_EQ(reply->events[0].version, static_cast<std::int64_t>(i + 1));
    if (i + 1 < bodies.size()) {
      EXPECT_EQ(reply->kind, Kind::kRecorded) << bodies[i];
    } else {
      ASSERT_EQ(reply->kind, Kind::kRejected);
      EXPECT_EQ(reply->refusal->rule, "step_out_of_order");
    }
  }
  EXPECT_EQ(View("acme").onboarding.at("bob").aggregate.version, 6);
}

// A step is decided on the tenant's members but appended to the member's own stream: unless
// the removal and the step take turns, a step decided before the removal commits lands after
// it. Started back to back, the removal is usually decided first; twenty members so that the
// race is met, not just possible. Whichever comes first, no step may follow the removal.
TEST_F(AppFixture, AStepAndTheRemovalOfItsMemberTakeTurns) {
  CreateTenant("acme", "alice");
  int refused_after_removal = 0;
  for (int i = 0; i < 20; ++i) {
    const std::string member = "m" + std::to_string(i);
    Record("acme", Invite("alice", member, "user"));
    const std::vector<Answer> replies = RunTogether(
        "acme", {OnMember("remove_member", "alice", member), StepBody(member, "get_started")});
    ASSERT_EQ(replies.size(), 2u);
    std::int64_t removed_at = 0, step_at = 0;
    for (const auto& [index, reply] : replies) {
      ASSERT_TRUE(reply.ok()) << reply.status().ToString();
      if (index == 0) {
        ASSERT_EQ(reply->kind, Kind::kRecorded) << member;
        removed_at = reply->position;
      } else if (reply->kind == Kind::kRejected) {
        EXPECT_EQ(reply->refusal->rule, "member_removed");
        ++refused_after_removal;
      } else {
        ASSERT_EQ(reply->kind, Kind::kRecorded);
        step_at = reply->position;
      }
    }
    if (step_at != 0) {
      EXPECT_LT(step_at, removed_at) << member << " completed a step after removal";
    }
  }
  EXPECT_GT(refused_after_removal, 0) << "the race was never met";
}

// A client that retries while its first attempt waits for the disk sends the same command id
// and the same expected_version: the retry is a repeat of the first, not a conflict with it.
TEST_F(AppFixture, ARetryRacingItsFirstAttemptIsARepeatEvenWithAnExpectedVersion) {
  CreateTenant("acme", "alice");  // instance stream at version 2
  const std::string body =
      R"({"command":"connect_marketo","actor":"alice","expected_version":2,"command_id":"k-1"})";
  const std::vector<Answer> replies = RunTogether("acme", {body, body, body});
  ASSERT_EQ(replies.size(), 3u);
  std::vector<Event> first;
  for (const auto& [index, reply] : replies) {
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    ASSERT_EQ(reply->kind, Kind::kRecorded) << "attempt " << index;
    EXPECT_EQ(reply->duplicate, index != 0);
    if (index == 0) first = reply->events;
  }
  for (const auto& [index, reply] : replies) EXPECT_EQ(reply->events, first);
  EXPECT_EQ(View("acme").instance.version, 3);
}

// The service's continuations run on the writer thread: destroying it waits for them.
TEST_F(AppFixture, ClosingTheAppWaitsForCommandsInFlight) {
  CreateTenant("acme", "alice");
  constexpr int kCommands = 40;
  const auto recorded = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < kCommands; ++i) {
    RunAsync("acme", Invite("alice", "m" + std::to_string(i), "user"),
             [recorded](Result<projections::CommandReply> reply) {
               if (reply.ok() && reply->kind == Kind::kRecorded) ++*recorded;
             });
  }
  app_.reset();  // no wait before it
  EXPECT_EQ(recorded->load(), kCommands);
  Reopen();
  EXPECT_EQ(View("acme").instance.members.size(), 1u + kCommands);
}

}  // namespace
}  // namespace custody::testing
