// Who may do what: every route against every kind of token, and tenants never see each other.

#include <gtest/gtest.h>

#include "tests/server/fixture.h"

namespace custody::servertest {
namespace {

class Auth : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    SeedAcme();
    ASSERT_EQ(CreateTenant("globex", "gina").status, 201);
    revoked_ = AddToken("operator", "");
    auto token = app_->tokens->Authenticate(revoked_);
    ASSERT_TRUE(token.ok() && token->has_value());
    ASSERT_TRUE(app_->tokens->Revoke((*token)->id, 2'000).ok());
  }

  // The status of `route` for `token` (commands use a connect that is always valid to try).
  int StatusOf(const std::string& route, const std::string& token) {
    const std::string tenant = route.find("{other}") != std::string::npos ? "globex" : "acme";
    std::string target = route;
    const std::size_t slot = target.find('{');
    if (slot != std::string::npos) target.replace(slot, target.find('}') - slot + 1, tenant);
    if (target == "/v1/tenants") {
      const std::string body = json::serialize(json::object{
          {"tenant", "t" + std::to_string(++fresh_)}, {"admin", "a"}, {"email", "a@t.test"}});
      return Post(target, token, body).status;
    }
    if (target.ends_with("/commands")) {
      const std::string admin = tenant == "acme" ? "alice" : "gina";
      // Invite a new member each time: always allowed for the admin.
      const std::string body =
          json::serialize(json::object{{"command", "invite_member"},
                                       {"actor", admin},
                                       {"member", "m" + std::to_string(++fresh_)},
                                       {"email", "m@t.test"},
                                       {"role", "user"}});
      return Post(target, token, body).status;
    }
    if (target == "/v1/events/live") {
      SseClient live(port_, target, token);
      return live.status();
    }
    return Get(target, token).status;
  }

  std::string revoked_;
  int fresh_ = 0;
};

struct Expectation {
  std::string route;  // {own}: acme; {other}: globex
  int operator_status, writer_own, writer_other, reviewer_own, reviewer_other, reviewer_all;
};

TEST_F(Auth, EveryRoleOnEveryRoute) {
  const std::vector<Expectation> table = {
      {"/v1/tenants", 201, 403, 403, 403, 403, 403},
      {"/v1/tenants/{own}/commands", 201, 201, 403, 403, 403, 403},
      {"/v1/tenants/{other}/commands", 201, 403, 403, 403, 403, 403},
      {"/v1/tenants/{own}/marketo", 200, 200, 403, 200, 403, 200},
      {"/v1/tenants/{other}/marketo", 200, 403, 403, 403, 403, 200},
      {"/v1/tenants/{own}/marketo/custody", 200, 200, 403, 200, 403, 200},
      {"/v1/tenants/{own}/members/{own}/removal-check", 0, 0, 0, 0, 0, 0},  // below
      {"/v1/tenants/{own}/onboarding", 200, 200, 403, 200, 403, 200},
      {"/v1/tenants/{own}/onboarding/funnel", 200, 200, 403, 200, 403, 200},
      {"/v1/tenants/{other}/onboarding/funnel", 200, 403, 403, 403, 403, 200},
      {"/v1/events", 200, 403, 403, 200, 200, 200},
      {"/v1/events?tenant=globex", 200, 403, 403, 403, 200, 200},
      {"/v1/events/live", 200, 403, 403, 200, 200, 200},
      {"/v1/integrity", 200, 403, 403, 200, 200, 200},
      {"/healthz", 200, 200, 200, 200, 200, 200},
      {"/metrics", 200, 200, 200, 200, 200, 200},
  };
  for (const Expectation& row : table) {
    if (row.operator_status == 0) continue;
    // writer_other / reviewer_other are the globex tokens.
    EXPECT_EQ(StatusOf(row.route, operator_), row.operator_status) << row.route << " operator";
    EXPECT_EQ(StatusOf(row.route, writer_), row.writer_own) << row.route << " writer acme";
    EXPECT_EQ(StatusOf(row.route, reviewer_), row.reviewer_own) << row.route << " reviewer acme";
    EXPECT_EQ(StatusOf(row.route, reviewer_all_), row.reviewer_all) << row.route << " reviewer *";
    if (row.route.find("{other}") == std::string::npos &&
        row.route.find("{own}") != std::string::npos) {
      EXPECT_EQ(StatusOf(row.route, writer_globex_), row.writer_other) << row.route;
      EXPECT_EQ(StatusOf(row.route, reviewer_globex_), row.reviewer_other) << row.route;
    }
    const bool open = row.route == "/healthz" || row.route == "/metrics";
    for (const std::string& bad : {std::string(), std::string("not-a-token"), revoked_}) {
      EXPECT_EQ(StatusOf(row.route, bad), open ? 200 : 401)
          << row.route << " token '" << bad.substr(0, 6) << "'";
    }
  }
  EXPECT_EQ(StatusOf("/v1/tenants/{own}/members/alice/removal-check", writer_), 200);
  EXPECT_EQ(StatusOf("/v1/tenants/{own}/members/alice/removal-check", writer_globex_), 403);
  EXPECT_EQ(StatusOf("/v1/tenants/{own}/onboarding/carol", reviewer_), 200);
  EXPECT_EQ(StatusOf("/v1/tenants/{own}/onboarding/carol", reviewer_globex_), 403);
}

TEST_F(Auth, UnauthenticatedAnswersCarryTheBearerChallenge) {
  const HttpResponse answer = Get("/v1/tenants/acme/marketo", "");
  EXPECT_EQ(answer.status, 401);
  EXPECT_EQ(answer.Code(), "unauthenticated");
  EXPECT_EQ(answer.Header("WWW-Authenticate"), "Bearer realm=\"custody\"");
  EXPECT_EQ(Get("/v1/tenants/acme/marketo", "", {{"Authorization", "Basic abc"}}).status, 401);
  EXPECT_EQ(Get("/v1/tenants/acme/marketo", revoked_).status, 401);
}

TEST_F(Auth, ATenantsReviewerSeesOnlyItsTenantsHistory) {
  const HttpResponse mine = Get("/v1/events?limit=1000", reviewer_);
  ASSERT_EQ(mine.status, 200);
  const json::array events = mine.Json().at("events").as_array();
  ASSERT_FALSE(events.empty());
  for (const auto& event : events) EXPECT_EQ(Str(event, "tenant"), "acme");
  EXPECT_EQ(Get("/v1/events?tenant=globex", reviewer_).Code(), "forbidden");
  // Another tenant's stream through the filter is simply empty.
  const HttpResponse sneaky = Get("/v1/events?stream=globex/instance", reviewer_);
  ASSERT_EQ(sneaky.status, 200);
  EXPECT_TRUE(sneaky.Json().at("events").as_array().empty());
  // The export too.
  const HttpResponse ndjson = Get("/v1/events", reviewer_, {{"Accept", "application/x-ndjson"}});
  ASSERT_EQ(ndjson.status, 200);
  EXPECT_EQ(ndjson.body.find("globex"), std::string::npos);
  EXPECT_NE(ndjson.body.find("acme"), std::string::npos);
}

}  // namespace
}  // namespace custody::servertest
