// The projections against the seed stories, through the real command path and SQLite file.

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "domain/events.h"
#include "projections/render.h"
#include "projections/trace.h"
#include "tests/projections/fixture.h"

namespace custody::testing {
namespace {

using Kind = projections::CommandReply::Kind;

class HandoverStory : public AppFixture {
 protected:
  // alice owns the connection; bob (admin) and carol (user) hold access.
  void SetUp() override {
    AppFixture::SetUp();
    CreateTenant("acme", "alice");
    Record("acme", Invite("alice", "bob", "admin"));
    Record("acme", Invite("alice", "carol", "user"));
    connected_at_ = Record("acme", Simple("connect_marketo", "alice"));
    Record("acme", OnMember("grant_marketo_access", "alice", "bob"));
    Record("acme", OnMember("grant_marketo_access", "alice", "carol"));
  }

  // Steps 1-3 of the seed's procedure; returns the position of alice's disconnection (the
  // ownership_transferred event follows it).
  std::int64_t Handover() {
    Record("acme", OnMember("revoke_marketo_access", "alice", "bob"));
    Record("acme", Simple("connect_marketo", "bob"));
    const auto reply = Run("acme", Simple("disconnect_marketo", "alice"));
    EXPECT_EQ(reply.events.size(), 2u);
    EXPECT_EQ(reply.events.back().type, "marketo.ownership_transferred");
    return reply.events.front().position;
  }

  std::int64_t connected_at_ = 0;
};

TEST_F(HandoverStory, OwnerIsTheFirstConnectedAdmin) {
  const auto view = View("acme");
  ASSERT_NE(view.instance.owner(), nullptr);
  EXPECT_EQ(view.instance.owner()->admin, "alice");
  EXPECT_EQ(view.instance.owner()->since_position, connected_at_);
  EXPECT_EQ(view.instance.access, (std::vector<std::string>{"bob", "carol"}));
  const auto marketo = projections::RenderMarketo(view, 9);
  EXPECT_EQ(boost::json::serialize(marketo.at("owner").at("member")), "\"alice\"");
  EXPECT_EQ(marketo.at("state"), "connected");
}

TEST_F(HandoverStory, RefusalsAreRecordedAndChangeNothing) {
  const auto before = View("acme");
  EXPECT_EQ(Refuse("acme", Simple("connect_marketo", "bob")), "access_must_be_revoked_first");
  EXPECT_EQ(Refuse("acme", OnMember("remove_member", "bob", "alice")), "owner_cannot_be_removed");
  const auto after = View("acme");
  EXPECT_EQ(after.instance.connected, before.instance.connected);
  EXPECT_EQ(after.instance.access, before.instance.access);
  EXPECT_EQ(after.instance.version, before.instance.version + 2);  // two command.rejected

  eventstore::Filter rejected;
  rejected.type = "command.rejected";
  auto page = app_->store->Query(rejected, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].actor, "bob");
  EXPECT_NE(page->events[0].data.find("access_must_be_revoked_first"), std::string::npos);
  EXPECT_EQ(page->events[0].data.find("\"target\""), std::string::npos);  // connect names none
  EXPECT_NE(page->events[1].data.find("\"target\":\"alice\""), std::string::npos);

  // Refused for who the actor is, the record still says at whom the command was aimed.
  Record("acme", Invite("alice", "uma", "user"));
  EXPECT_EQ(Refuse("acme", OnMember("remove_member", "uma", "alice")), "not_an_admin");
  const Event last = app_->store->Query(rejected, 10)->events.back();
  auto payload = events::DecodeEvent(last);
  ASSERT_TRUE(payload.ok()) << payload.status().ToString();
  const auto& refusal = std::get<events::CommandRejected>(*payload);
  EXPECT_EQ(refusal.member, "uma");
  EXPECT_EQ(refusal.target, "alice");
  EXPECT_EQ(last.subject, "uma");
}

TEST_F(HandoverStory, RemovalCheckListsTheHandoverUntilItIsDone) {
  auto check = projections::RenderRemovalCheck(View("acme"), "alice");
  EXPECT_FALSE(check.at("safe").as_bool());
  const auto& steps = check.at("remaining_steps").as_array();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].at("command"), "revoke_marketo_access");
  EXPECT_EQ(steps[0].at("member"), "bob");
  EXPECT_EQ(steps[1].at("command"), "connect_marketo");
  EXPECT_EQ(steps[1].at("actor"), "bob");
  EXPECT_EQ(steps[2].at("command"), "disconnect_marketo");
  EXPECT_EQ(steps[2].at("actor"), "alice");

  Handover();
  check = projections::RenderRemovalCheck(View("acme"), "alice");
  EXPECT_TRUE(check.at("safe").as_bool());
  EXPECT_TRUE(check.at("remaining_steps").as_array().empty());
  Record("acme", OnMember("remove_member", "bob", "alice"));
  EXPECT_TRUE(View("acme").instance.member("alice")->removed);
}

TEST_F(HandoverStory, OwnershipPassesAndUsersStayConnected) {
  const std::int64_t disconnected_at = Handover();
  const auto view = View("acme");
  EXPECT_EQ(view.instance.owner()->admin, "bob");
  EXPECT_EQ(view.instance.access, (std::vector<std::string>{"carol"}));

  ASSERT_EQ(view.custody.size(), 2u);
  EXPECT_EQ(view.custody[0].owner, "alice");
  EXPECT_EQ(view.custody[0].from_position, connected_at_);
  EXPECT_EQ(view.custody[0].to_position, disconnected_at);
  EXPECT_EQ(view.custody[0].ended_by, "ownership_transferred");
  EXPECT_EQ(view.custody[1].owner, "bob");
  EXPECT_EQ(view.custody[1].from_position, disconnected_at);
  EXPECT_FALSE(view.custody[1].to.has_value());
}

TEST_F(HandoverStory, TimeTravelAnswersAsOfEachPosition) {
  const std::int64_t disconnected_at = Handover();
  auto owner_at = [&](std::int64_t position) -> std::string {
    auto view = app_->projections->TenantAt("acme", position);
    EXPECT_TRUE(view.ok());
    if (!view.ok() || !view->has_value()) return "no tenant";
    const Connection* owner = (*view)->instance.owner();
    return owner == nullptr ? "nobody" : owner->admin;
  };
  EXPECT_EQ(owner_at(0), "no tenant");
  EXPECT_EQ(owner_at(connected_at_ - 1), "nobody");
  EXPECT_EQ(owner_at(connected_at_), "alice");
  EXPECT_EQ(owner_at(disconnected_at - 1), "alice");
  EXPECT_EQ(owner_at(disconnected_at), "bob");
  EXPECT_EQ(owner_at(disconnected_at + 100), "bob");

  auto earlier = app_->projections->TenantAt("acme", disconnected_at - 1);
  ASSERT_TRUE(earlier.ok());
  EXPECT_EQ((*earlier)->custody.size(), 1u);
  EXPECT_FALSE((*earlier)->custody[0].to.has_value());
}

TEST_F(HandoverStory, TraceDescribesTheOwnershipChange) {
  Record("acme", OnMember("revoke_marketo_access", "alice", "bob"));
  Record("acme", Simple("connect_marketo", "bob"));
  const auto before = View("acme");
  const auto reply = Run("acme", Simple("disconnect_marketo", "alice"));
  projections::TenantView after = before;
  std::vector<std::string> changes;
  for (const Event& event : reply.events) {
    const auto step_before = after;
    auto payload = events::DecodeEvent(event);
    ASSERT_TRUE(payload.ok());
    projections::Apply(after, event, *payload);
    for (auto& change : projections::DescribeChanges(step_before, after, event)) {
      changes.push_back(change);
    }
  }
  EXPECT_NE(std::find(changes.begin(), changes.end(), "owner: alice → bob"), changes.end());
  EXPECT_NE(std::find(changes.begin(), changes.end(), "connected: - alice"), changes.end());
}

TEST_F(AppFixture, LastDisconnectCutsOffEveryAccessHolder) {
  CreateTenant("globex", "gina");
  Record("globex", Invite("gina", "hank", "user"));
  Record("globex", Invite("gina", "ivy", "user"));
  Record("globex", Simple("connect_marketo", "gina"));
  Record("globex", OnMember("grant_marketo_access", "gina", "hank"));
  Record("globex", OnMember("grant_marketo_access", "gina", "ivy"));
  const auto reply = Run("globex", Simple("disconnect_marketo", "gina"));
  ASSERT_EQ(reply.events.size(), 2u);
  EXPECT_EQ(reply.events[1].type, "marketo.integration_down");
  EXPECT_EQ(reply.events[1].data, R"({"cut_off":["hank","ivy"],"last_admin":"gina"})");

  const auto view = View("globex");
  EXPECT_EQ(view.instance.owner(), nullptr);
  EXPECT_TRUE(view.instance.access.empty());
  ASSERT_EQ(view.custody.size(), 1u);
  EXPECT_EQ(view.custody[0].ended_by, "integration_down");
  EXPECT_EQ(view.custody[0].to_position, reply.events.front().position);
  EXPECT_EQ(projections::RenderMarketo(view, reply.position).at("state"), "disconnected");
}

TEST_F(AppFixture, OnboardingProgressAndFunnelFollowTheSteps) {
  CreateTenant("acme", "alice");
  Record("acme", Invite("alice", "carol", "user"));
  Record("acme", Invite("alice", "erin", "user"));
  Record("acme", StepBody("carol", "get_started"));
  Record("acme", StepBody("carol", "activate_with_salesforce", R"("api_enabled":true)"));
  Record("acme", StepBody("erin", "get_started"));
  const auto refused =
      Run("acme", StepBody("erin", "activate_with_salesforce", R"("api_enabled":false)"));
  ASSERT_EQ(refused.kind, Kind::kRejected);
  EXPECT_EQ(refused.refusal->rule, "api_not_enabled");
  EXPECT_EQ(refused.events[0].stream, "acme/onboarding/erin");

  const auto view = View("acme");
  const auto erin = projections::RenderOnboardingMember(view, "erin");
  EXPECT_EQ(erin.at("step"), "get_started");
  EXPECT_EQ(erin.at("next_step"), "activate_with_salesforce");
  EXPECT_EQ(erin.at("blocked"), "api_not_enabled");
  EXPECT_EQ(erin.at("steps").as_array().size(), 2u);  // invited, get_started

  const auto carol = projections::RenderOnboardingMember(view, "carol");
  EXPECT_EQ(carol.at("step"), "activate_with_salesforce");
  EXPECT_TRUE(carol.at("blocked").is_null());

  const auto funnel = projections::RenderFunnel(view).as_array();
  ASSERT_EQ(funnel.size(), 18u);
  EXPECT_EQ(funnel[0].at("step"), "invited");
  EXPECT_EQ(funnel[0].at("reached").as_int64(), 3);  // alice, carol, erin
  EXPECT_EQ(funnel[1].at("reached").as_int64(), 2);
  EXPECT_EQ(funnel[2].at("reached").as_int64(), 1);
  EXPECT_EQ(funnel[3].at("reached").as_int64(), 0);

  Record("acme", StepBody("erin", "activate_with_salesforce", R"("api_enabled":true)"));
  EXPECT_TRUE(projections::RenderOnboardingMember(View("acme"), "erin").at("blocked").is_null());
}

TEST_F(AppFixture, RemovedMemberCannotContinueOnboarding) {
  CreateTenant("acme", "alice");
  Record("acme", Invite("alice", "carol", "user"));
  Record("acme", StepBody("carol", "get_started"));
  Record("acme", OnMember("remove_member", "alice", "carol"));
  EXPECT_EQ(Refuse("acme", StepBody("carol", "activate_with_salesforce", R"("api_enabled":true)")),
            "member_removed");
  EXPECT_TRUE(projections::RenderOnboardingMember(View("acme"), "carol").at("removed").as_bool());
}

}  // namespace
}  // namespace custody::testing
