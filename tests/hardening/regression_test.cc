// Unit-level regressions of what the fuzzers and the hostile tests found: each names the bug.

#include <string>
#include <variant>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "domain/command_codec.h"
#include "domain/strict_json.h"
#include "domain/time.h"
#include "eventstore/event_format.h"
#include "server/problem.h"

namespace custody::hardening {
namespace {

DecodeError ErrorOf(std::string_view body) {
  auto decoded = DecodeCommand(body);
  EXPECT_TRUE(std::holds_alternative<DecodeError>(decoded)) << body;
  return std::holds_alternative<DecodeError>(decoded) ? std::get<DecodeError>(decoded)
                                                      : DecodeError{};
}

TEST(StrictJson, FindsARepeatedKeyAtAnyDepth) {
  EXPECT_EQ(FindDuplicateKey(R"({"a":1,"a":2})"), "a");
  EXPECT_EQ(FindDuplicateKey(R"({"a":{"b":1,"c":{"d":[{"e":1,"e":1}]}}})"), "e");
  // The same key spelt with an escape is the same key.
  EXPECT_EQ(FindDuplicateKey(R"({"ab":1,"\u0061b":2})"), "ab");
  EXPECT_EQ(FindDuplicateKey(R"([{"a":1},{"a":1}])"), std::nullopt);  // two objects
  EXPECT_EQ(FindDuplicateKey(R"({"a":{"a":1}})"), std::nullopt);      // two levels
  EXPECT_EQ(FindDuplicateKey(R"({"a":1,"A":2})"), std::nullopt);
  EXPECT_EQ(FindDuplicateKey(R"({"":1,"":2})"), "");  // the empty key is a key
  EXPECT_EQ(FindDuplicateKey(R"({"":1,"b":{"":2}})"), std::nullopt);
  EXPECT_EQ(FindDuplicateKey("{\"a\":"), std::nullopt);  // not JSON: the parser says why
}

// Boost.JSON keeps the last of two equal keys: {"command":"x","command":"y"} was command y.
TEST(CommandCodec, RefusesARepeatedKey) {
  const DecodeError error =
      ErrorOf(R"({"command":"remove_member","command":"connect_marketo","actor":"a"})");
  EXPECT_EQ(error.code, "invalid_field");
  EXPECT_EQ(error.field, "command");
  auto tenant = DecodeCreateTenant(R"({"tenant":"a","admin":"b","email":"b@a.test","admin":"c"})");
  ASSERT_TRUE(std::holds_alternative<DecodeError>(tenant));
  EXPECT_EQ(std::get<DecodeError>(tenant).field, "admin");
}

TEST(CommandCodec, SecretsAreStillRefusedFirst) {
  const DecodeError error = ErrorOf(R"({"command":"x","password":"p","password":"q"})");
  EXPECT_EQ(error.code, "secret_not_allowed");
}

// A NUL in a command_id was stored, served and logged as is.
TEST(CommandCodec, RefusesControlCharactersInKeys) {
  for (const char* body :
       {R"({"command":"connect_marketo","actor":"a","command_id":"x\u0000"})",
        R"({"command":"connect_marketo","actor":"a","command_id":"x\u007f"})",
        R"({"command":"connect_marketo","actor":"a","correlation_id":"\t"})",
        // C1 controls and Unicode's line separators break lines too.
        R"({"command":"connect_marketo","actor":"a","command_id":"n\u0085"})",
        R"({"command":"connect_marketo","actor":"a","command_id":"\u009f"})",
        R"({"command":"connect_marketo","actor":"a","command_id":"a\u2028b"})",
        R"({"command":"connect_marketo","actor":"a","correlation_id":"\u2029"})"}) {
    const DecodeError error = ErrorOf(body);
    EXPECT_EQ(error.code, "invalid_field") << body;
    EXPECT_TRUE(error.field == "command_id" || error.field == "correlation_id") << body;
  }
  auto unicode = DecodeCommand(
      R"({"command":"connect_marketo","actor":"a","command_id":"café-✓","correlation_id":"x y"})");
  EXPECT_TRUE(std::holds_alternative<DecodedCommand>(unicode));
  // U+00A0 and U+2027 sit right beside the refused ranges and are ordinary characters.
  EXPECT_TRUE(std::holds_alternative<DecodedCommand>(DecodeCommand(
      R"({"command":"connect_marketo","actor":"a","command_id":"a\u00a0b\u2027c"})")));
  const DecodeError email = ErrorOf(
      R"({"command":"invite_member","actor":"a","member":"b","email":"b\u0085@x.test","role":"user"})");
  EXPECT_EQ(email.field, "email");
}

// An e-mail "moc.elpmaxe@ecila" behind a U+202E showed a reviewer alice@example.com; a
// zero-width space made two keys look alike. Both were recorded as sent.
TEST(CommandCodec, RefusesCharactersThatHideOrReorderText) {
  for (const char* hidden : {"\\u061c", "\\u202e", "\\u202a", "\\u200b", "\\u200e", "\\u200f",
                             "\\u2060", "\\u2066", "\\u2069", "\\ufeff"}) {
    const std::string invite =
        std::string(R"({"command":"invite_member","actor":"a","member":"b","email":"b)") + hidden +
        R"(@x.test","role":"user"})";
    EXPECT_EQ(ErrorOf(invite).field, "email") << hidden;
    const std::string keyed =
        std::string(R"({"command":"connect_marketo","actor":"a","command_id":"k)") + hidden + "\"}";
    EXPECT_EQ(ErrorOf(keyed).field, "command_id") << hidden;
  }
  // Their neighbours, and the joiners that scripts and emoji sequences need, are text.
  for (const char* shown :
       {"\\u200c", "\\u200d", "\\u2027", "\\u2065", "\\u206a", "\\ufefe", "\\u200a"}) {
    const std::string keyed =
        std::string(R"({"command":"connect_marketo","actor":"a","command_id":"k)") + shown + "\"}";
    EXPECT_TRUE(std::holds_alternative<DecodedCommand>(DecodeCommand(keyed))) << shown;
  }
}

// "0000-01-01T00:30:00+01:00" parsed to a time in year -1, which the store refused: a 500.
TEST(Time, RefusesTimesOutsideYears0000To9999OnceTheOffsetIsApplied) {
  EXPECT_FALSE(ParseTime("0000-01-01T00:30:00+01:00").has_value());
  EXPECT_FALSE(ParseTime("9999-12-31T23:30:00-01:00").has_value());
  EXPECT_EQ(ParseTime("0000-01-01T00:00:00.000Z"), -62167219200000);
  EXPECT_EQ(ParseTime("9999-12-31T23:59:59.999Z"), 253402300799999);
  EXPECT_EQ(ParseTime("0000-01-01T01:30:00+01:00"), -62167219200000 + 30 * 60 * 1000);
  const DecodeError error = ErrorOf(
      R"({"command":"connect_marketo","actor":"a","occurred_at":"0000-01-01T00:00:00+00:01"})");
  EXPECT_EQ(error.field, "occurred_at");
}

TEST(EventFormat, RefusesALineWithARepeatedKey) {
  Event event;
  event.position = 1;
  event.id = "01a1fdca-0000-7000-8000-000000000001";
  event.stream = "t/instance";
  event.version = 1;
  event.type = "tenant.created";
  event.tenant = "t";
  event.actor = "a";
  event.data = R"({"tenant":"t"})";
  event.prev_hash = eventstore::kGenesisHash;
  event.hash = eventstore::ChainHash(event.prev_hash, event);
  const std::string line = eventstore::EventToJson(event);
  ASSERT_TRUE(eventstore::EventFromJson(line).ok());
  std::string doubled = line;
  doubled.insert(1, R"("actor":"mallory",)");
  auto refused = eventstore::EventFromJson(doubled);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("actor"), std::string::npos);
}

// Problems quote request bytes (the path, a parameter's name): invalid UTF-8 there made the
// document invalid JSON.
TEST(Problem, IsValidJsonWhateverBytesItQuotes) {
  const server::Response response =
      server::Problem("/v1/\xff\xc0/x", 404, "not_found", "no such route: \xe2\x82",
                      {{"field", "a\xed\xa0\x80"}, {"position", 3}});
  boost::system::error_code error;
  const boost::json::value body = boost::json::parse(response.body, error);
  ASSERT_FALSE(error) << response.body;
  EXPECT_EQ(body.at("instance").as_string(), "/v1/\xef\xbf\xbd\xef\xbf\xbd/x");
  EXPECT_EQ(body.at("detail").as_string(), "no such route: \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(body.at("field").as_string(), "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(body.at("position").as_int64(), 3);
  // Valid text is kept as it is.
  const server::Response plain = server::Problem("/v1/café", 404, "not_found", "✓");
  EXPECT_EQ(boost::json::parse(plain.body).at("instance").as_string(), "/v1/café");
}

}  // namespace
}  // namespace custody::hardening
