// Hostile request bodies and paths: invalid UTF-8, deep nesting, huge numbers, repeated keys,
// NUL and control bytes. Each is answered with its 4xx problem document (itself valid JSON)
// and writes nothing.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/server/fixture.h"

namespace custody::hardening {
namespace {

using servertest::Headers;
using servertest::HttpResponse;
using servertest::Str;

struct Hostile {
  const char* name;
  std::string target;
  std::string body;
  int status;
  std::string code;
  std::string field;  // checked when not empty
};

class HostileBodies : public servertest::ServerTest {
 protected:
  void Expect(const Hostile& bad, const std::string& token) {
    Headers headers = Auth(token);
    headers.emplace_back("Content-Type", "application/json");
    const HttpResponse answer =
        servertest::Send(port_, bad.body.empty() ? "GET" : "POST", bad.target, headers, bad.body);
    EXPECT_EQ(answer.status, bad.status) << bad.name << ": " << answer.body << answer.error;
    EXPECT_EQ(answer.Header("Content-Type"), "application/problem+json") << bad.name;
    // The problem parses as JSON (strict UTF-8) whatever bytes the request held.
    EXPECT_TRUE(answer.Json().is_object()) << bad.name << ": " << answer.body;
    EXPECT_EQ(answer.Code(), bad.code) << bad.name << ": " << answer.body;
    if (!bad.field.empty()) {
      EXPECT_EQ(Str(answer.Json(), "field"), bad.field) << bad.name;
    }
    if (bad.code == "invalid_field") {
      EXPECT_TRUE(answer.Json().as_object().contains("field")) << bad.name << ": " << answer.body;
    }
  }
};

std::string Nested(int depth) {
  return R"({"command":"connect_marketo","actor":"alice","x":)" + std::string(depth, '[') +
         std::string(depth, ']') + "}";
}

TEST_F(HostileBodies, EachIsAProblemAndNothingIsStored) {
  SeedAcme();
  const std::string commands = "/v1/tenants/acme/commands";
  const std::string connect = R"({"command":"connect_marketo","actor":"alice")";
  const std::string invite =
      R"({"command":"invite_member","actor":"alice","email":"dan@acme.test","role":"user",)";
  const std::vector<Hostile> cases = {
      // Invalid UTF-8 is refused by the parser, before anything is decoded.
      {"invalid byte", commands, connect + ",\"command_id\":\"c\xff\"}", 400, "invalid_json", ""},
      {"overlong encoding", commands, connect + ",\"command_id\":\"\xc0\xaf\"}", 400,
       "invalid_json", ""},
      {"truncated sequence", commands, connect + ",\"command_id\":\"\xe2\x82\"}", 400,
       "invalid_json", ""},
      {"lone surrogate", commands, connect + ",\"command_id\":\"\\ud800\"}", 400, "invalid_json",
       ""},
      {"encoded surrogate", commands, connect + ",\"command_id\":\"\xed\xa0\x80\"}", 400,
       "invalid_json", ""},
      {"byte order mark", commands, "\xef\xbb\xbf" + connect + "}", 400, "invalid_json", ""},
      // Nesting beyond the codec's depth, shallow and very deep.
      {"depth 40", commands, Nested(40), 400, "invalid_json", ""},
      {"depth 30000", commands, Nested(30000), 400, "invalid_json", ""},
      // Numbers no version can be.
      {"1e400", commands, connect + ",\"expected_version\":1e400}", 400, "invalid_field",
       "expected_version"},
      {"2^64", commands, connect + ",\"expected_version\":18446744073709551616}", 400,
       "invalid_field", "expected_version"},
      {"2^63", commands, connect + ",\"expected_version\":9223372036854775808}", 400,
       "invalid_field", "expected_version"},
      {"negative", commands, connect + ",\"expected_version\":-1}", 400, "invalid_field",
       "expected_version"},
      {"fraction", commands, connect + ",\"expected_version\":1.5}", 400, "invalid_field",
       "expected_version"},
      // Boost.JSON 1.81 reads this as NaN.
      {"zero, huge exponent", commands, connect + ",\"expected_version\":0e400}", 400,
       "invalid_field", "expected_version"},
      {"-0.0", commands, connect + ",\"expected_version\":-0.0}", 400, "invalid_field",
       "expected_version"},
      {"string", commands, connect + ",\"expected_version\":\"3\"}", 400, "invalid_field",
       "expected_version"},
      {"huge exponent", commands, connect + ",\"expected_version\":1e99999999999}", 400,
       "invalid_json", ""},
      // Repeated keys: Boost.JSON would keep one silently.
      {"repeated command", commands,
       R"({"command":"connect_marketo","command":"disconnect_marketo","actor":"alice"})", 400,
       "invalid_field", "command"},
      {"repeated actor", commands, connect + R"(,"actor":"bob"})", 400, "invalid_field", "actor"},
      {"repeated nested key", commands, connect + R"(,"x":[{"a":1,"a":2}]})", 400, "invalid_field",
       "a"},
      {"repeated tenant", "/v1/tenants",
       R"({"tenant":"initech","tenant":"acme","admin":"ann","email":"ann@initech.test"})", 400,
       "invalid_field", "tenant"},
      // NUL and control characters.
      {"raw NUL", commands, connect + ",\"command_id\":\"a" + std::string(1, '\0') + "b\"}", 400,
       "invalid_json", ""},
      {"NUL in actor", commands, R"({"command":"connect_marketo","actor":"al\u0000ice"})", 400,
       "invalid_field", "actor"},
      {"NUL in member", commands, invite + R"("member":"d\u0000an"})", 400, "invalid_field",
       "member"},
      {"NUL in email", commands,
       R"({"command":"invite_member","actor":"alice","member":"dan","email":"d\u0000@acme.test","role":"user"})",
       400, "invalid_field", "email"},
      {"NUL in command_id", commands, connect + R"(,"command_id":"c\u0000"})", 400, "invalid_field",
       "command_id"},
      {"newline in correlation_id", commands, connect + R"(,"correlation_id":"a\nb"})", 400,
       "invalid_field", "correlation_id"},
      {"NUL in tenant", "/v1/tenants",
       R"({"tenant":"ac\u0000me","admin":"ann","email":"ann@initech.test"})", 400, "invalid_field",
       "tenant"},
      {"NUL in step", commands,
       R"({"command":"onboarding_step","actor":"carol","step":"get_started\u0000"})", 400,
       "invalid_field", "step"},
      {"NUL in command", commands, R"({"command":"connect_marketo\u0000","actor":"alice"})", 400,
       "unknown_command", ""},
      // Regression: a time in year -1 once its offset is applied was accepted by the codec and
      // refused by the store, which made it a 500.
      {"time before year 0", commands, connect + R"(,"occurred_at":"0000-01-01T00:30:00+01:00"})",
       400, "invalid_field", "occurred_at"},
      {"time after year 9999", commands, connect + R"(,"occurred_at":"9999-12-31T23:30:00-01:00"})",
       400, "invalid_field", "occurred_at"},
      // Percent-encoded NUL in the path: no tenant of that name can exist.
      {"NUL in the path", "/v1/tenants/ac%00me/commands", connect + "}", 400, "invalid_field",
       "tenant"},
      {"empty body", commands, " ", 400, "invalid_json", ""},
      // Regression (found by fuzz_command): the empty key is a field too, and the problem
      // named no field at all.
      {"empty key", commands, connect + R"(,"":1})", 400, "invalid_field", ""},
      {"empty key twice", commands, connect + R"(,"":1,"":2})", 400, "invalid_field", ""},
  };
  const std::int64_t head = Head();
  for (const Hostile& bad : cases) Expect(bad, operator_);
  EXPECT_EQ(Head(), head);
  // Nothing above was recorded, not even as a refusal.
  const HttpResponse refusals = Get("/v1/events?type=command.rejected", operator_);
  EXPECT_TRUE(refusals.Json().at("events").as_array().empty()) << refusals.body;
}

TEST_F(HostileBodies, ATenantTokenCannotReachAPathWithANul) {
  SeedAcme();
  Expect({"writer, NUL", "/v1/tenants/acme%00/commands", R"({"command":"connect_marketo"})", 403,
          "forbidden", ""},
         writer_);
}

// Regression: problems quote the path, a parameter's name or a tenant from the URL; bytes that
// are not UTF-8 there made the problem document itself invalid JSON.
TEST_F(HostileBodies, ProblemsAboutBytesThatAreNotUtf8AreValidJson) {
  SeedAcme();
  const std::vector<Hostile> cases = {
      {"raw byte in the path", "/v1/\xff\xfe", "", 404, "not_found", ""},
      // A malformed id in the path is the request's mistake, as in a body or a query.
      {"encoded byte in the tenant", "/v1/tenants/%FF/marketo", "", 400, "invalid_field", "tenant"},
      {"encoded byte in a member", "/v1/tenants/acme/members/%C0%AF/removal-check", "", 400,
       "invalid_field", "member"},
      {"encoded byte in a parameter name", "/v1/events?%FF=1", "", 400, "invalid_field",
       "\xef\xbf\xbd"},
      {"encoded NUL in a parameter name", "/v1/events?a%00b=1", "", 400, "invalid_field", ""},
  };
  for (const Hostile& bad : cases) Expect(bad, operator_);
}

TEST_F(HostileBodies, AFilterWithBytesThatAreNotUtf8IsRefused) {
  SeedAcme();
  // Filters must be ids, types or stream names: a problem document, itself valid UTF-8.
  for (const char* field : {"tenant", "actor", "subject", "type", "stream"}) {
    const HttpResponse refused = Get(std::string("/v1/events?") + field + "=%FF%00", operator_);
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(refused.Code(), "invalid_field") << field;
    EXPECT_EQ(refused.Json().at("field").as_string(), field);
  }
}

}  // namespace
}  // namespace custody::hardening
