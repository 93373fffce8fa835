// The pure layer, without sockets: query strings, bearer tokens, and a few answers of Handle.

#include <gtest/gtest.h>

#include "server/auth.h"
#include "server/problem.h"
#include "server/query_params.h"
#include "server/router.h"
#include "tests/server/fixture.h"

namespace custody::servertest {
namespace {

using server::ParamError;
using server::Params;

TEST(QueryParams, DecodesEscapesAndRefusesRepeats) {
  auto parsed =
      server::ParseQuery("tenant=ac%6De&type=a%20b&&x=&at=2026-11-22T06:00:00+01:00&since=%2B");
  ASSERT_TRUE(std::holds_alternative<Params>(parsed));
  const Params& params = std::get<Params>(parsed);
  EXPECT_EQ(params.at("tenant"), "acme");
  EXPECT_EQ(params.at("type"), "a b");
  // A '+' is a '+', not a space: a time's offset is often sent unescaped.
  EXPECT_EQ(params.at("at"), "2026-11-22T06:00:00+01:00");
  EXPECT_EQ(params.at("since"), "+");
  EXPECT_EQ(params.at("x"), "");
  auto repeated = server::ParseQuery("a=1&a=2");
  ASSERT_TRUE(std::holds_alternative<ParamError>(repeated));
  EXPECT_EQ(std::get<ParamError>(repeated).field, "a");
  EXPECT_TRUE(std::holds_alternative<ParamError>(server::ParseQuery("a=%zz")));
  EXPECT_TRUE(std::holds_alternative<ParamError>(server::ParseQuery("a=%4")));
}

TEST(QueryParams, NonNegativeIntegersOnly) {
  EXPECT_EQ(server::ParseNonNegative("0"), 0);
  EXPECT_EQ(server::ParseNonNegative("9223372036854775807"), INT64_MAX);
  EXPECT_FALSE(server::ParseNonNegative("9223372036854775808"));
  EXPECT_FALSE(server::ParseNonNegative("-1"));
  EXPECT_FALSE(server::ParseNonNegative("+1"));
  EXPECT_FALSE(server::ParseNonNegative(" 1"));
  EXPECT_FALSE(server::ParseNonNegative(""));
}

TEST(QueryParams, HistoryFiltersAndLimits) {
  auto parsed = server::ParseHistoryParams(
      {{"tenant", "acme"}, {"since", "2026-01-01T00:00:00Z"}, {"after", "5"}, {"limit", "1000"}},
      true);
  ASSERT_TRUE(std::holds_alternative<server::HistoryParams>(parsed));
  const auto& params = std::get<server::HistoryParams>(parsed);
  EXPECT_EQ(params.filter.tenant, "acme");
  EXPECT_EQ(params.filter.after_position, 5);
  EXPECT_TRUE(params.filter.since.has_value());
  EXPECT_EQ(params.limit, 1000u);
  auto bad = server::ParseHistoryParams({{"until", "tomorrow"}}, true);
  EXPECT_EQ(std::get<ParamError>(bad).field, "until");
}

TEST(Bearer, ParsesTheSchemeCaseInsensitively) {
  EXPECT_EQ(server::BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(server::BearerToken("bearer   abc "), "abc");
  EXPECT_FALSE(server::BearerToken("Basic abc"));
  EXPECT_FALSE(server::BearerToken("Bearer"));
  EXPECT_FALSE(server::BearerToken("Bearer a b"));
  EXPECT_FALSE(server::BearerToken("Bearerabc"));
}

TEST(StorageProblem, FullFailingOrBusyStorageIs503AndOtherErrors500) {
  server::Request request;
  request.target = "/v1/events?x=1";
  for (const Status& status : {Status::Full("disk"), Status::IOError("eio"), Status::Busy("x")}) {
    const server::Response answer = server::StorageProblem(request, status);
    EXPECT_EQ(answer.status, 503);
    EXPECT_NE(answer.body.find("\"code\":\"storage_unavailable\""), std::string::npos);
    EXPECT_NE(answer.body.find("\"instance\":\"/v1/events\""), std::string::npos);
    ASSERT_EQ(answer.headers.size(), 1u);
    EXPECT_EQ(answer.headers[0].first, "Retry-After");
  }
  const server::Response broken = server::StorageProblem(request, Status::Corruption("/secret"));
  EXPECT_EQ(broken.status, 500);
  EXPECT_EQ(broken.body.find("/secret"), std::string::npos);  // details stay in the log
}

// Handle on its own, as a fuzzer would call it: no server running.
class PureHandle : public ServerTest {
 protected:
  void SetUp() override { OpenApp(); }
  server::Response Call(server::Request request) {
    server::Metrics metrics;
    server::Context context{*app_, metrics};
    return server::Handle(request, context);
  }
};

TEST_F(PureHandle, AnswersWithoutASocket) {
  const std::string token = AddToken("operator", "");
  server::Request health;
  health.method = "GET";
  health.target = "/healthz?verbose=1";
  const server::Response ok = Call(health);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.route, "/healthz");
  server::Request create;
  create.method = "POST";
  create.target = "/v1/tenants";
  create.authorization = "Bearer " + token;
  create.content_type = "application/json";
  create.body = R"({"tenant":"acme","admin":"alice","email":"alice@acme.test"})";
  create.peer_ip = "10.0.0.1";
  const server::Response created = Call(create);
  EXPECT_EQ(created.status, 201) << created.body;
  EXPECT_FALSE(created.token_id.empty());
  EXPECT_NE(created.body.find("10.0.0.1"), std::string::npos);
  for (const std::string garbage :
       {"", "*", "//", "/v1/te%zznants/acme/marketo", "/v1/../healthz"}) {
    server::Request odd = health;
    odd.target = garbage;
    EXPECT_EQ(Call(odd).status, 404) << garbage;
  }
  // A malformed escape where an id goes is a malformed id, judged after the token.
  server::Request escaped = health;
  escaped.target = "/v1/tenants/%zz/marketo";
  EXPECT_EQ(Call(escaped).status, 401);
  escaped.authorization = "Bearer " + token;
  const server::Response malformed = Call(escaped);
  EXPECT_EQ(malformed.status, 400);
  EXPECT_NE(malformed.body.find("\"field\":\"tenant\""), std::string::npos) << malformed.body;
}

}  // namespace
}  // namespace custody::servertest
