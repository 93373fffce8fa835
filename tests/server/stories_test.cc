// The seed stories over HTTP: the Marketo handover, and a user's onboarding.

#include <gtest/gtest.h>

#include "tests/server/fixture.h"

namespace custody::servertest {
namespace {

using Strings = std::vector<std::string>;

Strings StringsOf(const json::value& array) {
  Strings out;
  for (const auto& item : array.as_array()) out.emplace_back(item.as_string());
  return out;
}

// The (command, actor, member) of each remaining handover step.
std::vector<Strings> Steps(const json::value& check) {
  std::vector<Strings> steps;
  for (const auto& step : check.at("remaining_steps").as_array()) {
    steps.push_back({Str(step, "command"), Str(step, "actor"), Str(step, "member")});
  }
  return steps;
}

class Handover : public ServerTest {};

TEST_F(Handover, TheSeedStoryEndsWithBobOwningAndAliceRemoved) {
  SeedAcme();
  ASSERT_EQ(Act("connect_marketo", "alice").status, 201);
  const HttpResponse granted = Act("grant_marketo_access", "alice", "bob");
  ASSERT_EQ(granted.status, 201);
  EXPECT_EQ(Types(granted.Json()), Strings{"marketo.access_granted"});
  ASSERT_EQ(Act("grant_marketo_access", "alice", "carol").status, 201);

  // bob still holds access: his Connect is refused, and the refusal is on the record.
  const HttpResponse refused = Act("connect_marketo", "bob");
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.Header("Content-Type"), "application/problem+json");
  const json::value problem = refused.Json();
  EXPECT_EQ(Str(problem, "code"), "rule_violation");
  EXPECT_EQ(Str(problem, "rule"), "access_must_be_revoked_first");
  EXPECT_EQ(Str(problem, "type"), "https://custody.dev/problems/rule_violation");
  EXPECT_EQ(problem.at("status").to_number<int>(), 409);
  EXPECT_FALSE(Str(problem, "detail").empty());
  EXPECT_EQ(Types(problem), Strings{"command.rejected"});
  const std::int64_t rejected_at = problem.at("position").to_number<std::int64_t>();
  const HttpResponse history = Get("/v1/events?tenant=acme&type=command.rejected", reviewer_);
  ASSERT_EQ(history.status, 200);
  const json::array rejected = history.Json().at("events").as_array();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].at("position").to_number<std::int64_t>(), rejected_at);
  EXPECT_EQ(Str(rejected[0], "actor"), "bob");
  EXPECT_EQ(Str(rejected[0].at("data"), "rule"), "access_must_be_revoked_first");
  EXPECT_EQ(Str(rejected[0].at("data"), "command"), "connect_marketo");
  EXPECT_EQ(Str(rejected[0].at("source"), "ip"), "127.0.0.1");
  EXPECT_EQ(Str(rejected[0].at("source"), "user_agent"), "custody-test/1");

  // The owner cannot be removed; the check lists what is left of the handover.
  const HttpResponse removal = Act("remove_member", "bob", "alice");
  ASSERT_EQ(removal.status, 409);
  EXPECT_EQ(Str(removal.Json(), "rule"), "owner_cannot_be_removed");
  const HttpResponse check = Get("/v1/tenants/acme/members/alice/removal-check", writer_);
  ASSERT_EQ(check.status, 200) << check.body;
  EXPECT_FALSE(check.Json().at("safe").as_bool());
  EXPECT_EQ(Steps(check.Json()), (std::vector<Strings>{{"revoke_marketo_access", "alice", "bob"},
                                                       {"connect_marketo", "bob", ""},
                                                       {"disconnect_marketo", "alice", ""}}));

  ASSERT_EQ(Act("revoke_marketo_access", "alice", "bob").status, 201);
  ASSERT_EQ(Act("connect_marketo", "bob").status, 201);
  const HttpResponse handed = Act("disconnect_marketo", "alice");
  ASSERT_EQ(handed.status, 201);
  EXPECT_EQ(Types(handed.Json()),
            (Strings{"marketo.disconnected", "marketo.ownership_transferred"}));

  const HttpResponse marketo = Get("/v1/tenants/acme/marketo", reviewer_);
  ASSERT_EQ(marketo.status, 200);
  const json::value state = marketo.Json();
  EXPECT_EQ(Str(state, "state"), "connected");
  EXPECT_EQ(Str(state.at("owner"), "member"), "bob");
  EXPECT_EQ(StringsOf(state.at("connected_admins")), Strings{"bob"});
  EXPECT_EQ(StringsOf(state.at("access")), Strings{"carol"});
  EXPECT_EQ(state.at("as_of").to_number<std::int64_t>(), Head());

  const HttpResponse custody = Get("/v1/tenants/acme/marketo/custody", reviewer_);
  ASSERT_EQ(custody.status, 200);
  const json::array periods = custody.Json().as_array();
  ASSERT_EQ(periods.size(), 2u);
  EXPECT_EQ(Str(periods[0], "owner"), "alice");
  EXPECT_FALSE(periods[0].at("to").is_null());
  EXPECT_EQ(Str(periods[1], "owner"), "bob");
  EXPECT_TRUE(periods[1].at("to").is_null());
  EXPECT_EQ(periods[0].at("to_position"), periods[1].at("from_position"));

  const HttpResponse safe = Get("/v1/tenants/acme/members/alice/removal-check", writer_);
  EXPECT_TRUE(safe.Json().at("safe").as_bool()) << safe.body;
  EXPECT_TRUE(safe.Json().at("remaining_steps").as_array().empty());
  const HttpResponse removed = Act("remove_member", "bob", "alice");
  ASSERT_EQ(removed.status, 201) << removed.body;
  EXPECT_EQ(Types(removed.Json()).back(), "member.removed");
  EXPECT_EQ(StringsOf(Get("/v1/tenants/acme/marketo", reviewer_).Json().at("access")),
            Strings{"carol"});
}

TEST_F(Handover, TheNewOwnerOwnsSinceTheHandoverNotSinceConnecting) {
  SeedAcme();
  auto at = [&](const std::string& command, const std::string& actor, const char* time) {
    const HttpResponse answer = Command(
        "acme", json::object{{"command", command}, {"actor", actor}, {"occurred_at", time}});
    EXPECT_EQ(answer.status, 201) << answer.body;
  };
  at("connect_marketo", "alice", "2026-11-02T09:00:00Z");
  const std::int64_t alice_connected = Head();
  at("connect_marketo", "bob", "2026-11-03T09:00:00Z");  // standby from here
  at("disconnect_marketo", "alice", "2026-11-05T09:00:00Z");

  const json::value owner = Get("/v1/tenants/acme/marketo", reviewer_).Json().at("owner");
  EXPECT_EQ(Str(owner, "member"), "bob");
  EXPECT_EQ(Str(owner, "since"), "2026-11-05T09:00:00.000Z");
  const json::array periods = Get("/v1/tenants/acme/marketo/custody", reviewer_).Json().as_array();
  ASSERT_EQ(periods.size(), 2u);
  EXPECT_EQ(Str(periods[1], "from"), "2026-11-05T09:00:00.000Z");
  // And alice, the first owner, owned since she connected.
  const HttpResponse before =
      Get("/v1/tenants/acme/marketo?at=" + std::to_string(alice_connected + 1), reviewer_);
  EXPECT_EQ(Str(before.Json().at("owner"), "since"), "2026-11-02T09:00:00.000Z") << before.body;
}

TEST_F(Handover, CreatingAnExistingTenantIsARuleViolation) {
  const HttpResponse created = CreateTenant("acme", "alice");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(Types(created.Json()).front(), "tenant.created");
  EXPECT_EQ(created.Json().at("position").to_number<std::int64_t>(), Head());
  const HttpResponse again = CreateTenant("acme", "mallory");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(Str(again.Json(), "rule"), "tenant_exists");
}

TEST_F(Handover, UnknownTenantAndMemberAreNotFound) {
  SeedAcme();
  EXPECT_EQ(Act("connect_marketo", "alice", "", "nowhere").Code(), "not_found");
  EXPECT_EQ(Get("/v1/tenants/nowhere/marketo", operator_).status, 404);
  EXPECT_EQ(Get("/v1/tenants/acme/members/zed/removal-check", operator_).status, 404);
  EXPECT_EQ(Get("/v1/tenants/acme/onboarding/zed", operator_).status, 404);
  EXPECT_EQ(Get("/v1/tenants/acme/onboarding/zed", operator_).Code(), "not_found");
  // Someone never invited who tries a step is refused, and is still no member to ask about.
  const HttpResponse stranger = Command(
      "acme",
      json::object{{"command", "onboarding_step"}, {"actor", "zed"}, {"step", "get_started"}});
  EXPECT_EQ(Str(stranger.Json(), "rule"), "unknown_member") << stranger.body;
  EXPECT_EQ(Get("/v1/tenants/acme/onboarding/zed", operator_).status, 404);

  // Invited afterwards, zed starts clean: the refusal from before blocks nothing.
  ASSERT_EQ(Invite("acme", "alice", "zed", "user").status, 201);
  const HttpResponse invited = Get("/v1/tenants/acme/onboarding/zed", operator_);
  ASSERT_EQ(invited.status, 200);
  EXPECT_TRUE(invited.Json().at("blocked").is_null()) << invited.body;
  EXPECT_EQ(Str(invited.Json(), "next_step"), "get_started");

  // Removed, zed has no next step any more.
  ASSERT_EQ(Act("remove_member", "alice", "zed").status, 201);
  const HttpResponse removed = Get("/v1/tenants/acme/onboarding/zed", operator_);
  EXPECT_TRUE(removed.Json().at("removed").as_bool()) << removed.body;
  EXPECT_TRUE(removed.Json().at("next_step").is_null()) << removed.body;
}

class Onboarding : public ServerTest {
 protected:
  HttpResponse Step(const std::string& actor, json::object body) {
    body["command"] = "onboarding_step";
    body["actor"] = actor;
    return Command("acme", body, writer_);
  }
};

TEST_F(Onboarding, CarolCompletesEveryStepAndTheFunnelCountsHer) {
  SeedAcme();
  const std::vector<json::object> steps = {
      {{"step", "get_started"}},
      {{"step", "activate_with_salesforce"}, {"api_enabled", true}},
      {{"step", "salesforce_login"}},
      {{"step", "salesforce_allow"},
       {"sales_email", "carol@acme.test"},
       {"salesforce_email", "Carol@Acme.test"}},
      {{"step", "start"}},
      {{"step", "next"}},
      {{"step", "choose_email_client"}, {"client", "gmail"}},
      {{"step", "enter_email"}, {"email", "carol@acme.test"}},
      {{"step", "enter_password"}},
      {{"step", "continue"}},
      {{"step", "email_connected"}},
      {{"step", "signature"}, {"skipped", true}},
      {{"step", "finish"}},
      {{"step", "tour"}, {"choice", "not_now"}},
      {{"step", "launch"}, {"target", "salesforce_lightning"}},
      {{"step", "msi_panel_opened"}, {"record", "lead"}},
  };
  // A step out of order is refused with the step expected next.
  const HttpResponse early = Step("carol", {{"step", "start"}});
  ASSERT_EQ(early.status, 409);
  EXPECT_EQ(Str(early.Json(), "rule"), "step_out_of_order");
  EXPECT_EQ(Str(early.Json(), "expected_step"), "get_started");
  const HttpResponse blocked = Get("/v1/tenants/acme/onboarding/carol", reviewer_);
  EXPECT_EQ(Str(blocked.Json(), "blocked"), "step_out_of_order");

  for (const json::object& step : steps) {
    const HttpResponse done = Step("carol", step);
    ASSERT_EQ(done.status, 201) << json::serialize(step) << " " << done.body;
    EXPECT_EQ(Types(done.Json()), Strings{"onboarding.step_completed"});
    EXPECT_EQ(Str(done.Json().at("events").at(0), "stream"), "acme/onboarding/carol");
  }
  const HttpResponse carol = Get("/v1/tenants/acme/onboarding/carol", reviewer_);
  ASSERT_EQ(carol.status, 200);
  EXPECT_TRUE(carol.Json().at("completed").as_bool());
  EXPECT_EQ(Str(carol.Json(), "step"), "msi_panel_opened");
  EXPECT_TRUE(carol.Json().at("next_step").is_null());
  EXPECT_EQ(carol.Json().at("steps").as_array().size(), steps.size() + 1);  // and invited
  // One more step after the last is refused, and blocks nobody who is done.
  EXPECT_EQ(Step("carol", {{"step", "get_started"}}).status, 409);
  const HttpResponse after = Get("/v1/tenants/acme/onboarding/carol", reviewer_);
  EXPECT_TRUE(after.Json().at("completed").as_bool());
  EXPECT_TRUE(after.Json().at("blocked").is_null()) << after.body;

  const HttpResponse list = Get("/v1/tenants/acme/onboarding", reviewer_);
  ASSERT_EQ(list.status, 200);
  bool found = false;
  for (const auto& member : json::array(list.Json().as_array())) {
    if (Str(member, "member") == "carol") found = member.at("completed").as_bool();
  }
  EXPECT_TRUE(found) << list.body;

  const HttpResponse funnel = Get("/v1/tenants/acme/onboarding/funnel", reviewer_);
  ASSERT_EQ(funnel.status, 200) << funnel.body;
  const json::array counts = funnel.Json().as_array();
  ASSERT_FALSE(counts.empty());
  EXPECT_EQ(Str(counts.back(), "step"), "msi_panel_opened");
  EXPECT_EQ(counts.back().at("reached").to_number<int>(), 1);
}

TEST_F(Onboarding, PasswordIsRefusedAndNothingIsRecorded) {
  SeedAcme();
  ASSERT_EQ(Step("carol", {{"step", "get_started"}}).status, 201);
  const std::int64_t head = Head();
  const HttpResponse secret = Step("carol", {{"step", "enter_password"}, {"password", "hunter2"}});
  EXPECT_EQ(secret.status, 400);
  EXPECT_EQ(secret.Code(), "secret_not_allowed");
  EXPECT_EQ(Str(secret.Json(), "field"), "password");
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(Get("/v1/events", operator_).body.find("hunter2"), std::string::npos);
}

TEST_F(Onboarding, ApiNotEnabledNamesTheStepToRetry) {
  SeedAcme();
  ASSERT_EQ(Step("carol", {{"step", "get_started"}}).status, 201);
  const HttpResponse refused =
      Step("carol", {{"step", "activate_with_salesforce"}, {"api_enabled", false}});
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(Str(refused.Json(), "rule"), "api_not_enabled");
  EXPECT_EQ(Str(refused.Json(), "expected_step"), "activate_with_salesforce");
  EXPECT_EQ(Str(Get("/v1/tenants/acme/onboarding/carol", writer_).Json(), "step"), "get_started");
}

}  // namespace
}  // namespace custody::servertest
