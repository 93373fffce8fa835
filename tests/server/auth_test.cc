// Who may do what: every route against every kind of token, and tenants never see each other.

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

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

TEST_F(Auth, TwoAuthorizationFieldsAreMalformedWhicheverComesFirst) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"Bearer " + operator_, "Bearer nothing"},
      {"Bearer nothing", "Bearer " + operator_},
      {"Bearer " + operator_, "Bearer " + operator_},
  };
  for (const auto& [first, second] : pairs) {
    Connection connection(port_);
    ASSERT_TRUE(
        connection.WriteRaw("GET /v1/tenants/acme/marketo HTTP/1.1\r\nHost: x\r\n"
                            "Authorization: " +
                            first + "\r\nAuthorization: " + second + "\r\n\r\n"));
    const HttpResponse answer = connection.Read();
    EXPECT_EQ(answer.status, 401) << first << " then " << second;
    EXPECT_EQ(answer.Code(), "unauthenticated");
  }
}

TEST_F(Auth, AnotherTenantInTheHistoryFiltersIsForbiddenBeforeAnyOtherMistake) {
  for (const char* query : {"tenant=globex&bogus=1", "tenant=globex&limit=0",
                            "tenant=globex&since=monday", "tenant=nowhere&after=x"}) {
    EXPECT_EQ(Get(std::string("/v1/events?") + query, reviewer_).status, 403) << query;
  }
  // Only history takes a tenant parameter: elsewhere it is unknown (400), whoever asks, and an
  // empty one is a mistake of the request, not another tenant.
  EXPECT_EQ(Get("/v1/tenants/acme/marketo?tenant=globex", writer_).Code(), "invalid_field");
  EXPECT_EQ(Get("/v1/integrity?tenant=globex", reviewer_).Code(), "invalid_field");
  EXPECT_EQ(Get("/v1/events?tenant=", reviewer_).Code(), "invalid_field");
  // A tenant filter that is no tenant id is a mistake, not an empty answer.
  const HttpResponse bad = Get("/v1/events?tenant=acme%00", operator_);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Str(bad.Json(), "field"), "tenant");
}

TEST_F(Auth, ARevokedTokensLiveTailEndsBeforeItSendsMore) {
  const std::string token = AddToken("reviewer", "acme");
  SseClient live(port_, "/v1/events/live?tenant=acme", token);
  ASSERT_EQ(live.status(), 200);
  auto invite = [this](const std::string& member) {
    const std::string body = json::serialize(json::object{{"command", "invite_member"},
                                                          {"actor", "alice"},
                                                          {"member", member},
                                                          {"email", member + "@acme.test"},
                                                          {"role", "user"}});
    ASSERT_EQ(Post("/v1/tenants/acme/commands", writer_, body).status, 201);
  };
  invite("before");
  const auto seen = live.Next(std::chrono::seconds(5));
  ASSERT_TRUE(seen.has_value());
  EXPECT_NE(seen->data.find("\"before\""), std::string::npos);

  auto found = app_->tokens->Authenticate(token);
  ASSERT_TRUE(found.ok() && found->has_value());
  ASSERT_TRUE(app_->tokens->Revoke((*found)->id, 3'000).ok());
  // The stream asks the token store again at most once a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  invite("after");
  EXPECT_FALSE(live.Next(std::chrono::seconds(3)).has_value());
  EXPECT_TRUE(live.Ended(std::chrono::seconds(1)));
}

TEST_F(Auth, ATenantsReviewerSeesOnlyItsTenantsHistory) {
  const HttpResponse mine = Get("/v1/events?limit=1000", reviewer_);
  ASSERT_EQ(mine.status, 200);
  const json::array events = mine.Json().at("events").as_array();
  ASSERT_FALSE(events.empty());
  for (const auto& event : events) EXPECT_EQ(Str(event, "tenant"), "acme");
  EXPECT_EQ(Get("/v1/events?tenant=globex", reviewer_).Code(), "forbidden");
  // Another tenant's stream through the filter is refused as that tenant is.
  const HttpResponse sneaky = Get("/v1/events?stream=globex/instance", reviewer_);
  EXPECT_EQ(sneaky.status, 403);
  EXPECT_EQ(sneaky.Code(), "forbidden");
  EXPECT_EQ(Get("/v1/events/live?stream=globex/onboarding/x", reviewer_).status, 403);
  const HttpResponse own_stream = Get("/v1/events?stream=acme/instance", reviewer_);
  ASSERT_EQ(own_stream.status, 200);
  EXPECT_FALSE(own_stream.Json().at("events").as_array().empty());
  // A stream and a tenant that contradict each other are a mistake.
  const HttpResponse contradiction =
      Get("/v1/events?tenant=globex&stream=acme/instance", operator_);
  EXPECT_EQ(contradiction.status, 400);
  EXPECT_EQ(Str(contradiction.Json(), "field"), "stream");
  // The export too.
  const HttpResponse ndjson = Get("/v1/events", reviewer_, {{"Accept", "application/x-ndjson"}});
  ASSERT_EQ(ndjson.status, 200);
  EXPECT_EQ(ndjson.body.find("globex"), std::string::npos);
  EXPECT_NE(ndjson.body.find("acme"), std::string::npos);
}

// The actor is what the client says; the token is who the server let in. Every event records
// the public id of the token that sent its command, never its secret.
TEST_F(Auth, EveryEventRecordsTheTokenThatSentItsCommand) {
  auto id_of = [this](const std::string& secret) {
    auto token = app_->tokens->Authenticate(secret);
    EXPECT_TRUE(token.ok() && token->has_value());
    return token.ok() && token->has_value() ? (*token)->id : std::string();
  };
  const HttpResponse granted = Command("acme",
                                       {{"command", "invite_member"},
                                        {"actor", "alice"},
                                        {"member", "dave"},
                                        {"email", "dave@acme.test"},
                                        {"role", "user"}},
                                       writer_);
  ASSERT_EQ(granted.status, 201) << granted.body;
  const HttpResponse refused = Act("disconnect_marketo", "carol");  // by the operator's token
  ASSERT_EQ(refused.status, 409) << refused.body;

  const HttpResponse history = Get("/v1/events?tenant=acme", reviewer_);
  ASSERT_EQ(history.status, 200);
  const json::array events = history.Json().at("events").as_array();
  ASSERT_GE(events.size(), 5u);
  // tenant.created (POST /v1/tenants), the seed's two invitations, dave's, the refusal.
  EXPECT_EQ(Str(events[0].at("source"), "token"), id_of(operator_));
  EXPECT_EQ(Str(events[1].at("source"), "token"), id_of(operator_));
  const json::value& dave = events[events.size() - 2];
  EXPECT_EQ(Str(dave.at("data"), "member"), "dave");
  EXPECT_EQ(Str(dave.at("source"), "token"), id_of(writer_));
  EXPECT_EQ(dave.at("format").to_number<int>(), 2);
  EXPECT_EQ(Str(events.back(), "type"), "command.rejected");
  EXPECT_EQ(Str(events.back().at("source"), "token"), id_of(operator_));
  EXPECT_EQ(history.body.find(writer_), std::string::npos);
  EXPECT_EQ(history.body.find(operator_), std::string::npos);
}

}  // namespace
}  // namespace custody::servertest
