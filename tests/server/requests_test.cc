// What the API does with each request: time travel, idempotency, optimistic concurrency, and
// every kind of bad request (answered with its problem, and nothing written).

#include <gtest/gtest.h>

#include <thread>

#include "tests/server/fixture.h"

namespace custody::servertest {
namespace {

using Strings = std::vector<std::string>;

class Requests : public ServerTest {};

TEST_F(Requests, AtAPositionOrATimeAnswersAsOfThatMoment) {
  SeedAcme();
  const std::int64_t before_connect = Head();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string time_before =
      Str(Get("/v1/events?after=" + std::to_string(before_connect - 1), operator_)
              .Json()
              .at("events")
              .at(0),
          "recorded_at");
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(Act("connect_marketo", "alice").status, 201);

  const HttpResponse now = Get("/v1/tenants/acme/marketo", writer_);
  EXPECT_EQ(Str(now.Json(), "state"), "connected");
  const HttpResponse then =
      Get("/v1/tenants/acme/marketo?at=" + std::to_string(before_connect), writer_);
  ASSERT_EQ(then.status, 200) << then.body;
  EXPECT_EQ(Str(then.Json(), "state"), "disconnected");
  EXPECT_EQ(then.Json().at("as_of").to_number<std::int64_t>(), before_connect);
  EXPECT_EQ(then.Header("X-Custody-As-Of"), std::to_string(before_connect));

  const HttpResponse by_time = Get("/v1/tenants/acme/marketo?at=" + time_before, writer_);
  ASSERT_EQ(by_time.status, 200) << by_time.body;
  EXPECT_EQ(Str(by_time.Json(), "state"), "disconnected");
  EXPECT_EQ(by_time.Json().at("as_of").to_number<std::int64_t>(), before_connect);

  // Before the tenant existed, there is no tenant; the answer says it exists later, and which
  // clock a time was read on.
  const HttpResponse not_yet = Get("/v1/tenants/acme/marketo?at=0", writer_);
  EXPECT_EQ(not_yet.status, 404);
  EXPECT_EQ(Str(not_yet.Json(), "detail"), "tenant acme did not exist yet as of position 0");
  const HttpResponse not_yet_then =
      Get("/v1/tenants/acme/marketo/custody?at=2000-01-01T00:00:00Z", writer_);
  EXPECT_EQ(not_yet_then.status, 404);
  EXPECT_EQ(Str(not_yet_then.Json(), "detail"),
            "tenant acme did not exist yet as of position 0: no event was recorded by "
            "2000-01-01T00:00:00.000Z (at= reads the time each event was recorded, recorded_at, "
            "not its occurred_at)");
  EXPECT_EQ(Str(Get("/v1/tenants/nobody/marketo?at=0", operator_).Json(), "detail"),
            "no such tenant: nobody");
  // A time's offset may come with its '+' unescaped.
  EXPECT_EQ(Get("/v1/tenants/acme/marketo?at=2100-01-01T01:00:00+01:00", writer_).status, 200);
  // Bad `at` values are 400 invalid_field naming `at`.
  for (const std::string bad : {"-1", "yesterday", "2026-13-01T00:00:00Z", "1.5", ""}) {
    const HttpResponse answer = Get("/v1/tenants/acme/onboarding?at=" + bad, writer_);
    EXPECT_EQ(answer.status, 400) << bad;
    EXPECT_EQ(answer.Code(), "invalid_field") << bad;
    EXPECT_EQ(Str(answer.Json(), "field"), "at") << bad;
  }
  EXPECT_EQ(Str(Get("/v1/tenants/acme/marketo?bogus=1", writer_).Json(), "field"), "bogus");
}

TEST_F(Requests, RepeatedCommandIdReturnsTheFirstResultAndAppendsNothing) {
  SeedAcme();
  const json::object connect{
      {"command", "connect_marketo"}, {"actor", "alice"}, {"command_id", "c-1"}};
  const HttpResponse first = Command("acme", connect);
  ASSERT_EQ(first.status, 201);
  const std::int64_t head = Head();
  const HttpResponse again = Command("acme", connect);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(Head(), head);
  EXPECT_EQ(
      Get("/v1/events?type=marketo.connected", operator_).Json().at("events").as_array().size(),
      1u);

  // A refused command repeated is refused again with the same body, once on the record.
  const json::object refused{
      {"command", "connect_marketo"}, {"actor", "alice"}, {"command_id", "c-2"}};
  const HttpResponse no = Command("acme", refused);
  ASSERT_EQ(no.status, 409);
  const HttpResponse no_again = Command("acme", refused);
  EXPECT_EQ(no_again.status, 409);
  EXPECT_EQ(no_again.body, no.body);
  EXPECT_EQ(Head(), head + 1);
}

TEST_F(Requests, ExpectedVersionMismatchIs412WithBothVersions) {
  SeedAcme();
  const HttpResponse invited = Invite("acme", "alice", "dan", "user");
  ASSERT_EQ(invited.status, 201);
  const int version = invited.Json().at("events").at(0).at("version").to_number<int>();
  const std::int64_t head = Head();
  const HttpResponse stale = Command(
      "acme", {{"command", "connect_marketo"}, {"actor", "alice"}, {"expected_version", 1}});
  ASSERT_EQ(stale.status, 412) << stale.body;
  EXPECT_EQ(stale.Code(), "version_conflict");
  EXPECT_EQ(stale.Json().at("expected").to_number<int>(), 1);
  EXPECT_EQ(stale.Json().at("actual").to_number<int>(), version);
  EXPECT_EQ(Head(), head);
  const HttpResponse fresh = Command(
      "acme", {{"command", "connect_marketo"}, {"actor", "alice"}, {"expected_version", version}});
  ASSERT_EQ(fresh.status, 201) << fresh.body;
  EXPECT_EQ(fresh.Json().at("events").at(0).at("version").to_number<int>(), version + 1);
}

struct BadRequest {
  const char* name;
  std::string method;
  std::string target;
  std::string content_type;
  std::string body;
  int status;
  std::string code;
  std::string field;
};

TEST_F(Requests, EveryBadRequestIsAProblemAndWritesNothing) {
  SeedAcme();
  const std::string commands = "/v1/tenants/acme/commands";
  const std::vector<BadRequest> cases = {
      {"invalid json", "POST", commands, "application/json", "{\"command\":", 400, "invalid_json",
       ""},
      {"not an object", "POST", commands, "application/json", "[1,2]", 400, "invalid_json", ""},
      {"password", "POST", commands, "application/json",
       R"({"command":"invite_member","actor":"alice","member":"dan","email":"d@x.test","role":"user","Password":"x"})",
       400, "secret_not_allowed", "Password"},
      {"unknown command", "POST", commands, "application/json",
       R"({"command":"launch_rockets","actor":"alice"})", 400, "unknown_command", ""},
      {"invalid field", "POST", commands, "application/json",
       R"({"command":"invite_member","actor":"alice","member":"dan","email":"d@x.test","role":"king"})",
       400, "invalid_field", "role"},
      {"wrong content type", "POST", commands, "text/plain",
       R"({"command":"connect_marketo","actor":"alice"})", 415, "unsupported_media_type", ""},
      {"a charset JSON cannot have", "POST", commands, "application/json; charset=iso-8859-1",
       R"({"command":"connect_marketo","actor":"alice"})", 415, "unsupported_media_type", ""},
      {"json as a prefix", "POST", commands, "application/jsonx",
       R"({"command":"connect_marketo","actor":"alice"})", 415, "unsupported_media_type", ""},
      {"no content type", "POST", commands, "", R"({"command":"connect_marketo","actor":"alice"})",
       415, "unsupported_media_type", ""},
      {"too large", "POST", commands, "application/json",
       R"({"command":"connect_marketo","actor":")" + std::string(70 * 1024, 'a') + "\"}", 413,
       "body_too_large", ""},
      {"unknown route", "GET", "/v1/nothing", "", "", 404, "not_found", ""},
      {"no tenant id in the path", "GET", "/v1/tenants/a%20b/marketo", "", "", 400, "invalid_field",
       "tenant"},
      {"a tenant id too long", "GET", "/v1/tenants/" + std::string(65, 't') + "/marketo", "", "",
       400, "invalid_field", "tenant"},
      {"no member id in the path", "GET", "/v1/tenants/acme/onboarding/a%2Fb", "", "", 400,
       "invalid_field", "member"},
      {"a malformed escape in a tenant id", "GET", "/v1/tenants/a%zzb/marketo", "", "", 400,
       "invalid_field", "tenant"},
      {"a malformed escape in a member id", "GET", "/v1/tenants/acme/members/b%z/removal-check", "",
       "", 400, "invalid_field", "member"},
      {"a malformed escape in a route's own segment", "GET", "/v1/tenan%zzts/acme/marketo", "", "",
       404, "not_found", ""},
      {"wrong method", "DELETE", commands, "", "", 405, "method_not_allowed", ""},
      {"bad limit", "GET", "/v1/events?limit=0", "", "", 400, "invalid_field", "limit"},
      {"limit too big", "GET", "/v1/events?limit=1001", "", "", 400, "invalid_field", "limit"},
      {"bad after", "GET", "/v1/events?after=x", "", "", 400, "invalid_field", "after"},
      // Filters no event can match are mistakes, not empty histories.
      {"a tenant for a stream", "GET", "/v1/events?stream=acme", "", "", 400, "invalid_field",
       "stream"},
      {"a stream of no member", "GET", "/v1/events?stream=acme/onboarding/a%20b", "", "", 400,
       "invalid_field", "stream"},
      {"a misspelt type", "GET", "/v1/events?type=marketo.conected", "", "", 400, "invalid_field",
       "type"},
      {"an actor that is no id", "GET", "/v1/events?actor=a%20b", "", "", 400, "invalid_field",
       "actor"},
      {"a subject that is no id", "GET", "/v1/events/live?subject=%2F", "", "", 400,
       "invalid_field", "subject"},
      {"bad since", "GET", "/v1/events?since=monday", "", "", 400, "invalid_field", "since"},
      {"bad at", "GET", "/v1/tenants/acme/marketo?at=soon", "", "", 400, "invalid_field", "at"},
      {"a parameter on a command", "POST", commands + "?dry_run=1", "application/json",
       R"({"command":"connect_marketo","actor":"alice"})", 400, "invalid_field", "dry_run"},
      {"a parameter on integrity", "GET", "/v1/integrity?full=1", "", "", 400, "invalid_field",
       "full"},
  };
  const std::int64_t head = Head();
  for (const BadRequest& bad : cases) {
    Headers headers = Auth(operator_);
    if (!bad.content_type.empty()) headers.emplace_back("Content-Type", bad.content_type);
    const HttpResponse answer = Send(port_, bad.method, bad.target, headers, bad.body);
    EXPECT_EQ(answer.status, bad.status) << bad.name << ": " << answer.body << answer.error;
    EXPECT_EQ(answer.Header("Content-Type"), "application/problem+json") << bad.name;
    EXPECT_EQ(answer.Code(), bad.code) << bad.name;
    EXPECT_EQ(Str(answer.Json(), "type"), "https://custody.dev/problems/" + bad.code) << bad.name;
    EXPECT_FALSE(Str(answer.Json(), "title").empty()) << bad.name;
    EXPECT_EQ(answer.Json().at("status").to_number<int>(), bad.status) << bad.name;
    if (!bad.field.empty()) {
      EXPECT_EQ(Str(answer.Json(), "field"), bad.field) << bad.name;
    }
    if (bad.status == 405) {
      EXPECT_EQ(answer.Header("Allow"), "POST") << bad.name;
    }
  }
  EXPECT_EQ(Head(), head);
}

TEST_F(Requests, ContentTypeParametersAreAccepted) {
  SeedAcme();
  const std::vector<std::pair<std::string, std::string>> accepted = {
      {"connect_marketo", "Application/JSON; charset=utf-8"},
      {"disconnect_marketo", "application/json\t;\tCharset=\"UTF-8\""},
      {"connect_marketo", "application/json; version=1; charset=utf8"},
  };
  for (const auto& [command, content_type] : accepted) {
    const HttpResponse answer =
        Post("/v1/tenants/acme/commands", writer_,
             R"({"command":")" + command + R"(","actor":"alice"})", content_type);
    EXPECT_EQ(answer.status, 201) << content_type << ": " << answer.body;
  }
}

TEST_F(Requests, HealthIntegrityAndProblemsForUnknownRoutes) {
  SeedAcme();
  const HttpResponse last_invite = Invite("acme", "alice", "dan", "user");
  const std::int64_t head = last_invite.Json().at("position").to_number<std::int64_t>();
  const HttpResponse health = Get("/healthz", "");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(Str(health.Json(), "status"), "ok");
  EXPECT_EQ(health.Json().at("position").to_number<std::int64_t>(), head);

  const HttpResponse integrity = Get("/v1/integrity", reviewer_);
  ASSERT_EQ(integrity.status, 200) << integrity.body;
  const json::value report = integrity.Json();
  EXPECT_TRUE(report.at("ok").as_bool());
  EXPECT_EQ(report.at("events").to_number<std::int64_t>(), head);
  EXPECT_EQ(report.at("head").at("position").to_number<std::int64_t>(), head);
  EXPECT_TRUE(report.at("first_bad_position").is_null());
  EXPECT_EQ(Str(last_invite.Json().at("events").at(0), "hash"), Str(report.at("head"), "hash"));

  const HttpResponse unknown = Get("/v1/tenants/acme/marketo/owners", operator_);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Str(unknown.Json(), "instance"), "/v1/tenants/acme/marketo/owners");
  const HttpResponse post_only = Get("/v1/tenants", operator_);
  EXPECT_EQ(post_only.status, 405);
  EXPECT_EQ(post_only.Header("Allow"), "POST");
}

TEST_F(Requests, KeepAliveServesPipelinedRequestsInOrder) {
  Connection connection(port_);
  ASSERT_TRUE(connection.connected());
  const std::string one = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string two = "GET /v1/nope HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(connection.WriteRaw(one + two + one));
  EXPECT_EQ(connection.Read().status, 200);
  EXPECT_EQ(connection.Read().status, 404);
  EXPECT_EQ(connection.Read().status, 200);
  EXPECT_EQ(connection.Request("GET", "/healthz").status, 200);
}

TEST_F(Requests, MalformedHttpIsA400AndTheConnectionCloses) {
  Connection connection(port_);
  ASSERT_TRUE(connection.WriteRaw("GET /healthz HTTP/1.1 nonsense\r\n\r\n"));
  const HttpResponse answer = connection.Read();
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.Code(), "invalid_request");
  EXPECT_TRUE(connection.ClosedByPeer(std::chrono::seconds(5)));
}

TEST_F(Requests, TheHostFieldIsRequiredOnceAndAbsoluteTargetsAreServed) {
  for (const std::string& request :
       {std::string("GET /healthz HTTP/1.1\r\n\r\n"),
        std::string("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")}) {
    Connection connection(port_);
    ASSERT_TRUE(connection.WriteRaw(request));
    const HttpResponse answer = connection.Read();
    EXPECT_EQ(answer.status, 400) << request;
    EXPECT_EQ(answer.Code(), "invalid_request") << request;
    EXPECT_TRUE(connection.ClosedByPeer(std::chrono::seconds(5))) << request;
  }
  // HTTP/1.0 may leave it out.
  Connection old(port_);
  ASSERT_TRUE(old.WriteRaw("GET /healthz HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(old.Read().status, 200);
  // The absolute form (RFC 9112, 3.2.2) names the same resource as the origin form.
  Connection absolute(port_);
  ASSERT_TRUE(
      absolute.WriteRaw("GET http://127.0.0.1/v1/tenants/acme/marketo?at=0 HTTP/1.1\r\n"
                        "Host: 127.0.0.1\r\nAuthorization: Bearer " +
                        operator_ + "\r\n\r\n"));
  const HttpResponse found = absolute.Read();
  EXPECT_EQ(found.status, 404) << found.body;  // no tenant acme yet: routed, not "no such route"
  EXPECT_EQ(Str(found.Json(), "instance"), "/v1/tenants/acme/marketo");
  EXPECT_EQ(found.Json().at("detail").as_string().find("no such route"), std::string::npos);
}

// HEAD is GET without the body (RFC 9110, 9.3.2), streams included; each answer below is
// followed on the same connection by a GET, which would read a body sent by mistake as its
// status line.
TEST_F(Requests, AHeadAnswerIsTheHeaderOfTheGetAlone) {
  SeedAcme();
  const std::string auth = "Authorization: Bearer " + operator_ + "\r\n";
  const HttpResponse get = Get("/v1/tenants/acme/marketo", operator_);
  ASSERT_EQ(get.status, 200);
  struct Case {
    std::string target;
    std::string extra;
    int status;
    std::string content_type;
  };
  const Case cases[] = {
      {"/v1/tenants/acme/marketo", auth, 200, "application/json"},
      {"/v1/tenants/acme/marketo", "", 401, "application/problem+json"},
      {"/v1/events?tenant=acme", auth + "Accept: text/csv\r\n", 200, "text/csv; charset=utf-8"},
      {"/v1/events/live?tenant=acme", auth, 200, "text/event-stream"},
      {"/v1/tenants/acme/commands", auth, 405, "application/problem+json"},
  };
  for (const Case& head : cases) {
    Connection connection(port_);
    ASSERT_TRUE(connection.WriteRaw("HEAD " + head.target + " HTTP/1.1\r\nHost: x\r\n" +
                                    head.extra + "\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const HttpResponse answer = connection.ReadHeader();
    EXPECT_EQ(answer.status, head.status) << head.target;
    EXPECT_EQ(answer.Header("Content-Type").rfind(head.content_type, 0), 0u)
        << head.target << ": " << answer.Header("Content-Type");
    if (head.status == 405) {
      EXPECT_EQ(answer.Header("Allow"), "POST");
    }
    EXPECT_EQ(connection.Read().status, 200) << head.target;
  }
  // The length of the body a GET gets.
  Connection connection(port_);
  ASSERT_TRUE(
      connection.WriteRaw("HEAD /v1/tenants/acme/marketo HTTP/1.1\r\nHost: x\r\n" + auth + "\r\n"));
  EXPECT_EQ(connection.ReadHeader().Header("Content-Length"), std::to_string(get.body.size()));
  // A path served by GET names HEAD too when it refuses a method.
  const HttpResponse refused = Send(port_, "PUT", "/healthz");
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(refused.Header("Allow"), "GET, HEAD");
}

TEST_F(Requests, ProbesIgnoreTheirQueryStringEvenAMalformedOne) {
  EXPECT_EQ(Get("/healthz?x=1&%zz", "").status, 200);
  EXPECT_EQ(Get("/metrics?%%%", "").status, 200);
}

TEST_F(Requests, ATrailerSectionIsBoundedLikeAHeader) {
  for (const std::size_t size : {std::size_t{66000}, std::size_t{40000}}) {
    Connection connection(port_);
    ASSERT_TRUE(
        connection.WriteRaw("POST /healthz HTTP/1.1\r\nHost: x\r\n"
                            "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"
                            "X-T: " +
                            std::string(size, 't') + "\r\n\r\n"));
    const HttpResponse answer = connection.Read();
    EXPECT_EQ(answer.status, 431) << size;
    EXPECT_EQ(answer.Code(), "headers_too_large") << size;
  }
  // A small trailer is fine, and the server is still there.
  Connection small(port_);
  ASSERT_TRUE(
      small.WriteRaw("POST /healthz HTTP/1.1\r\nHost: x\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n"
                     "X-T: t\r\n\r\n"));
  EXPECT_EQ(small.Read().status, 405);
  EXPECT_EQ(Get("/healthz", "").status, 200);
}

TEST_F(Requests, ExpectContinueGetsA100BeforeTheBody) {
  SeedAcme();
  const std::string body = R"({"command":"connect_marketo","actor":"alice"})";
  Connection connection(port_);
  ASSERT_TRUE(
      connection.WriteRaw("POST /v1/tenants/acme/commands HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer " +
                          writer_ +
                          "\r\nContent-Type: application/json\r\n"
                          "Expect: 100-continue\r\nContent-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n"));
  EXPECT_EQ(connection.Read().status, 100);
  ASSERT_TRUE(connection.WriteRaw(body));
  const HttpResponse answer = connection.Read();
  EXPECT_EQ(answer.status, 201) << answer.body;
  EXPECT_EQ(Types(answer.Json()), std::vector<std::string>{"marketo.connected"});
}

TEST_F(Requests, HeadersOverTheLimitAre431) {
  Headers huge = {{"X-Filler", std::string(20 * 1024, 'x')}};
  const HttpResponse answer = Send(port_, "GET", "/healthz", huge);
  EXPECT_EQ(answer.status, 431);
  EXPECT_EQ(answer.Code(), "headers_too_large");
}

TEST_F(Requests, VersionsOtherThanHttp10And11Are505) {
  for (const char* version : {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9"}) {
    Connection connection(port_);
    ASSERT_TRUE(
        connection.WriteRaw(std::string("GET /healthz ") + version + "\r\nHost: x\r\n\r\n"));
    const HttpResponse answer = connection.Read();
    EXPECT_EQ(answer.status, 505) << version;
    EXPECT_EQ(answer.Code(), "http_version_not_supported") << version;
    EXPECT_EQ(Str(answer.Json(), "instance"), "/healthz") << version;
    EXPECT_TRUE(connection.ClosedByPeer(std::chrono::seconds(5))) << version;
  }
}

// The limit counts the whole header, request line to blank line, however it is cut into fields
// and reads: 16 KiB plus one field is refused, 16 KiB less one field is served.
TEST_F(Requests, TheHeaderLimitCountsEveryFieldOfTheHeader) {
  const std::size_t limit = server::ServerOptions{}.header_limit;
  const std::string start = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
  const std::string field = "X-Pad: " + std::string(91, 'a') + "\r\n";  // 100 bytes
  for (const bool over : {true, false}) {
    std::string request = start;
    while (request.size() + 2 <= limit) request += field;
    if (!over) request.resize(request.size() - 2 * field.size());
    request += "\r\n";
    Connection connection(port_);
    ASSERT_TRUE(connection.WriteRaw(request));
    const HttpResponse answer = connection.Read();
    EXPECT_EQ(answer.status, over ? 431 : 200) << request.size();
    if (over) {
      EXPECT_EQ(answer.Code(), "headers_too_large");
    }
  }
}

}  // namespace
}  // namespace custody::servertest
