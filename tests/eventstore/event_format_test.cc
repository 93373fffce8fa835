#include "eventstore/event_format.h"

#include <gtest/gtest.h>

#include "domain/json.h"
#include "domain/time.h"
#include "eventstore/encoding.h"

namespace custody::eventstore {
namespace {

// The API.md example event, with a payload that needs escaping and two null fields, in format
// 1: the bytes and hashes below were fixed before format 2 existed and must never change.
Event GoldenEvent() {
  Event e;
  e.format = 1;
  e.position = 42;
  e.id = "0193f0c2-5b7e-7c3a-9f1e-1a2b3c4d5e6f";
  e.stream = "acme/instance";
  e.version = 7;
  e.type = "marketo.connected";
  e.tenant = "acme";
  e.actor = "bob";
  e.subject = "bob";
  e.occurred_at = 1795255200000;  // 2026-11-21T10:00:00.000Z
  e.recorded_at = 1795255200004;
  e.command_id = "c-123";
  e.source.ip = "127.0.0.1";
  e.data = "{\"admin\":\"bob\",\"note\":\"\xc3\xa9 \\\"q\\\"\\n\"}";
  e.prev_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  e.hash = "dd287be226c5d77d6d660d60822f4355c8e4c97c2167f911068244cde98dd159";
  return e;
}

// The same event in format 2, sent with a token.
Event GoldenEventV2() {
  Event e = GoldenEvent();
  e.format = 2;
  e.source.token = "tok_5f1c0a9e";
  e.hash = "d16c2c51748cd104c66fca763ea26d292ed8f89312d9f84a67648aacddd23297";
  return e;
}

TEST(EventFormat, CanonicalBytesSortKeysAndWriteEmptyOptionalsAsNull) {
  EXPECT_EQ(CanonicalEventBytes(GoldenEvent()),
            "{\"actor\":\"bob\",\"command_id\":\"c-123\",\"correlation_id\":null,"
            "\"data\":{\"admin\":\"bob\",\"note\":\"\xc3\xa9 \\\"q\\\"\\n\"},\"format\":1,"
            "\"id\":\"0193f0c2-5b7e-7c3a-9f1e-1a2b3c4d5e6f\","
            "\"occurred_at\":\"2026-11-21T10:00:00.000Z\",\"position\":42,"
            "\"prev_hash\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
            "\"recorded_at\":\"2026-11-21T10:00:00.004Z\","
            "\"source\":{\"ip\":\"127.0.0.1\",\"user_agent\":null},\"stream\":\"acme/instance\","
            "\"subject\":\"bob\",\"tenant\":\"acme\",\"type\":\"marketo.connected\","
            "\"version\":7}");
}

TEST(EventFormat, Format2CanonicalBytesHoldTheSourceToken) {
  EXPECT_EQ(CanonicalEventBytes(GoldenEventV2()),
            "{\"actor\":\"bob\",\"command_id\":\"c-123\",\"correlation_id\":null,"
            "\"data\":{\"admin\":\"bob\",\"note\":\"\xc3\xa9 \\\"q\\\"\\n\"},\"format\":2,"
            "\"id\":\"0193f0c2-5b7e-7c3a-9f1e-1a2b3c4d5e6f\","
            "\"occurred_at\":\"2026-11-21T10:00:00.000Z\",\"position\":42,"
            "\"prev_hash\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
            "\"recorded_at\":\"2026-11-21T10:00:00.004Z\","
            "\"source\":{\"ip\":\"127.0.0.1\",\"token\":\"tok_5f1c0a9e\",\"user_agent\":null},"
            "\"stream\":\"acme/instance\",\"subject\":\"bob\",\"tenant\":\"acme\","
            "\"type\":\"marketo.connected\",\"version\":7}");
  Event no_token = GoldenEventV2();
  no_token.source.token.clear();
  EXPECT_NE(CanonicalEventBytes(no_token).find("\"source\":{\"ip\":\"127.0.0.1\",\"token\":null,"),
            std::string::npos);
  // Format 1 has no token: a stray one in memory changes nothing that is hashed.
  Event format1 = GoldenEvent();
  format1.source.token = "tok_5f1c0a9e";
  EXPECT_EQ(CanonicalEventBytes(format1), CanonicalEventBytes(GoldenEvent()));
}

// Expected values computed outside this code (Python's hashlib and json.dumps with sorted keys):
// SHA-256 of the canonical bytes above, which hold the previous hash.
TEST(EventFormat, ChainHashMatchesIndependentSha256) {
  const Event e = GoldenEvent();
  EXPECT_EQ(ChainHash(e.prev_hash, e),
            "dd287be226c5d77d6d660d60822f4355c8e4c97c2167f911068244cde98dd159");
  EXPECT_EQ(ChainHash(kGenesisHash, e),
            "61ecc397306ffe46fe34334a59b733b42b50d7757bf1616a78e8994cdb377f67");
  const Event v2 = GoldenEventV2();
  EXPECT_EQ(ChainHash(v2.prev_hash, v2), v2.hash);
  EXPECT_EQ(ChainHash(kGenesisHash, v2),
            "46e7a10cf7b12ac19e555f64027de002ea8d31a61359686bc5545bbedf23b54b");
}

TEST(EventFormat, ChainHashIsEmptyForMalformedPrevHash) {
  EXPECT_EQ(ChainHash("abc", GoldenEvent()), "");
  EXPECT_EQ(ChainHash(std::string(64, 'G'), GoldenEvent()), "");
}

TEST(EventFormat, ChainHashChangesWithEveryCoveredField) {
  const Event base = GoldenEvent();
  const std::string hash = ChainHash(kGenesisHash, base);
  std::vector<Event> changed(9, base);
  changed[0].actor = "alice";
  changed[1].data = "{\"admin\":\"eve\"}";
  changed[2].occurred_at += 1;
  changed[3].type = "marketo.disconnected";
  changed[4].position += 1;
  changed[5].version += 1;
  changed[6].source.user_agent = "curl";
  changed[7].format = 2;
  changed[8].correlation_id = "x";
  for (const Event& e : changed) EXPECT_NE(ChainHash(kGenesisHash, e), hash);
  Event other_token = GoldenEventV2();
  other_token.source.token = "tok_other";
  EXPECT_NE(ChainHash(kGenesisHash, other_token), ChainHash(kGenesisHash, GoldenEventV2()));
  // The previous hash is covered: it is the one given, whatever the event's field says.
  EXPECT_NE(ChainHash(std::string(64, 'a'), base), hash);
  Event different_prev = base;
  different_prev.prev_hash = std::string(64, 'a');
  EXPECT_EQ(ChainHash(kGenesisHash, different_prev), hash);
}

TEST(EventFormat, JsonHasServedKeyOrder) {
  EXPECT_EQ(EventToJson(GoldenEvent()),
            "{\"position\":42,\"id\":\"0193f0c2-5b7e-7c3a-9f1e-1a2b3c4d5e6f\","
            "\"stream\":\"acme/instance\",\"version\":7,\"type\":\"marketo.connected\","
            "\"tenant\":\"acme\",\"actor\":\"bob\",\"subject\":\"bob\","
            "\"occurred_at\":\"2026-11-21T10:00:00.000Z\","
            "\"recorded_at\":\"2026-11-21T10:00:00.004Z\",\"command_id\":\"c-123\","
            "\"correlation_id\":null,\"source\":{\"ip\":\"127.0.0.1\",\"user_agent\":null},"
            "\"data\":{\"admin\":\"bob\",\"note\":\"\xc3\xa9 \\\"q\\\"\\n\"},"
            "\"prev_hash\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
            "\"hash\":\"dd287be226c5d77d6d660d60822f4355c8e4c97c2167f911068244cde98dd159\","
            "\"format\":1}");
  EXPECT_NE(
      EventToJson(GoldenEventV2())
          .find(
              "\"source\":{\"ip\":\"127.0.0.1\",\"user_agent\":null,\"token\":\"tok_5f1c0a9e\"},"),
      std::string::npos);
}

TEST(EventFormat, JsonRoundTripsEveryField) {
  Event e = GoldenEvent();
  e.correlation_id = "corr";
  e.source.user_agent = "curl/7.88.1";
  Result<Event> parsed = EventFromJson(EventToJson(e));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, e);
  Result<Event> nulls = EventFromJson(EventToJson(GoldenEvent()));
  ASSERT_TRUE(nulls.ok()) << nulls.status().ToString();
  EXPECT_EQ(*nulls, GoldenEvent());
  Event v2 = GoldenEventV2();
  for (const std::string token : {"tok_5f1c0a9e", ""}) {
    v2.source.token = token;
    Result<Event> parsed_v2 = EventFromJson(EventToJson(v2));
    ASSERT_TRUE(parsed_v2.ok()) << parsed_v2.status().ToString();
    EXPECT_EQ(*parsed_v2, v2);
  }
}

TEST(EventFormat, JsonParsingMakesDataCanonical) {
  std::string json = EventToJson(GoldenEvent());
  const std::string data = "{\"admin\":\"bob\",\"note\":\"\xc3\xa9 \\\"q\\\"\\n\"}";
  json.replace(json.find(data), data.size(),
               "{ \"note\" : \"\xc3\xa9 \\\"q\\\"\\n\", \"admin\": \"bob\" }");
  Result<Event> parsed = EventFromJson(json);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->data, data);
}

// Replaces the first occurrence of `from` in the golden JSON.
std::string GoldenJsonWith(const std::string& from, const std::string& to) {
  std::string json = EventToJson(GoldenEvent());
  const std::size_t at = json.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) json.replace(at, from.size(), to);
  return json;
}

void ExpectRefused(const std::string& json, const std::string& field) {
  Result<Event> parsed = EventFromJson(json);
  ASSERT_FALSE(parsed.ok()) << json;
  EXPECT_EQ(parsed.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find(field), std::string::npos)
      << parsed.status().message() << " should name " << field;
}

TEST(EventFormat, JsonRefusesMissingFields) {
  ExpectRefused(GoldenJsonWith("\"position\":42,", ""), "position");
  ExpectRefused(GoldenJsonWith(",\"actor\":\"bob\"", ""), "actor");
  ExpectRefused(GoldenJsonWith(",\"subject\":\"bob\"", ""), "subject");
  ExpectRefused(GoldenJsonWith(",\"format\":1", ""), "format");
  ExpectRefused(GoldenJsonWith(",\"format\":1", ",\"format\":0"), "format");
  ExpectRefused(GoldenJsonWith("\"ip\":\"127.0.0.1\",", ""), "source.ip");
}

TEST(EventFormat, JsonRefusesUnknownFields) {
  ExpectRefused(GoldenJsonWith("{\"position\"", "{\"extra\":1,\"position\""), "extra");
  ExpectRefused(GoldenJsonWith("\"user_agent\":null", "\"user_agent\":null,\"port\":1"),
                "source.port");
}

// `source.token` belongs to format 2 and later, and to them it is required.
TEST(EventFormat, JsonHasASourceTokenExactlyFromFormat2) {
  ExpectRefused(GoldenJsonWith("\"user_agent\":null", "\"user_agent\":null,\"token\":null"),
                "source.token");
  std::string v2 = EventToJson(GoldenEventV2());
  v2.replace(v2.find(",\"token\":\"tok_5f1c0a9e\""), 23, "");
  ExpectRefused(v2, "source.token");
}

TEST(EventFormat, JsonRefusesMistypedFields) {
  ExpectRefused(GoldenJsonWith("\"position\":42", "\"position\":\"42\""), "position");
  ExpectRefused(GoldenJsonWith("\"position\":42", "\"position\":0"), "position");
  ExpectRefused(GoldenJsonWith("\"version\":7", "\"version\":7.5"), "version");
  ExpectRefused(GoldenJsonWith("\"type\":\"marketo.connected\"", "\"type\":null"), "type");
  ExpectRefused(GoldenJsonWith("\"subject\":\"bob\"", "\"subject\":\"\""), "subject");
  ExpectRefused(GoldenJsonWith("2026-11-21T10:00:00.000Z", "2026-11-21T10:00:00Z"), "occurred_at");
  ExpectRefused(GoldenJsonWith("2026-11-21T10:00:00.004Z", "yesterday"), "recorded_at");
  ExpectRefused(GoldenJsonWith("\"source\":{\"ip\":\"127.0.0.1\",\"user_agent\":null}",
                               "\"source\":\"127.0.0.1\""),
                "source");
  ExpectRefused(GoldenJsonWith("\"ip\":\"127.0.0.1\"", "\"ip\":127"), "source.ip");
  ExpectRefused(GoldenJsonWith("\"data\":{", "\"data\":{\"list\":[1],\"n\":{},\"z\":0.5,"), "data");
  ExpectRefused(GoldenJsonWith(GoldenEvent().data, "\"text\""), "data");
  ExpectRefused(GoldenJsonWith("\"admin\":\"bob\"", "\"admin\":1.5"), "data");
  ExpectRefused(GoldenJsonWith("\"prev_hash\":\"9f", "\"prev_hash\":\"9F"), "prev_hash");
  ExpectRefused(GoldenJsonWith("\"hash\":\"dd28", "\"hash\":\"3a6"), "hash");
}

TEST(EventFormat, JsonRefusesWhatIsNotOneObject) {
  EXPECT_EQ(EventFromJson("").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(EventFromJson("[1]").status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(EventFromJson(EventToJson(GoldenEvent()) + "{}").status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(EventFromJson("{\"position\":").status().code(), Status::Code::kInvalidArgument);
}

TEST(EventFormat, CsvQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(EventCsvHeader(),
            "position,id,stream,version,type,tenant,actor,subject,occurred_at,recorded_at,"
            "command_id,correlation_id,source_ip,source_user_agent,data,prev_hash,hash,format,"
            "source_token\r\n");
  Event e = GoldenEvent();
  e.actor = "bob, jr";
  e.subject = "say \"hi\"";
  e.correlation_id = "line\nbreak";
  e.source.user_agent = "cr\rhere";
  e.data = "{\"a\":\"x\"}";
  EXPECT_EQ(EventToCsvRow(e),
            "42,0193f0c2-5b7e-7c3a-9f1e-1a2b3c4d5e6f,acme/instance,7,marketo.connected,acme,"
            "\"bob, jr\",\"say \"\"hi\"\"\",2026-11-21T10:00:00.000Z,2026-11-21T10:00:00.004Z,"
            "c-123,\"line\nbreak\",127.0.0.1,\"cr\rhere\",\"{\"\"a\"\":\"\"x\"\"}\","
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,"
            "dd287be226c5d77d6d660d60822f4355c8e4c97c2167f911068244cde98dd159,1,\r\n");
  Event v2 = GoldenEventV2();
  const std::string row = EventToCsvRow(v2);
  EXPECT_EQ(row.substr(row.size() - 17), ",2,tok_5f1c0a9e\r\n");
}

TEST(EventFormat, FastTimeFormattingAgreesWithFormatTime) {
  const TimeMs samples[] = {0,
                            1,
                            -1,
                            86399999,
                            86400000,
                            951782400000,
                            951868799999,
                            4107542400000,
                            kMinTime,
                            kMaxTime,
                            1795255200004};
  for (TimeMs t : samples) {
    std::string fast;
    AppendTime(fast, t);
    EXPECT_EQ(fast, FormatTime(t)) << t;
  }
  for (TimeMs t = kMinTime; t < kMaxTime; t += 7777777777) {
    std::string fast;
    AppendTime(fast, t);
    ASSERT_EQ(fast, FormatTime(t)) << t;
  }
}

TEST(EventFormat, StringsAreEscapedExactlyAsAppendJsonString) {
  // Every byte value at every offset of a word, since strings are scanned 8 bytes at a time.
  for (int byte = 0; byte < 256; ++byte) {
    for (std::size_t at = 0; at < 19; ++at) {
      Event e = GoldenEvent();
      e.actor = std::string(19, 'a');
      e.actor[at] = static_cast<char>(byte);
      std::string expected = "{\"actor\":";
      AppendJsonString(expected, e.actor);
      expected += ",";
      ASSERT_EQ(CanonicalEventBytes(e).substr(0, expected.size()), expected)
          << "byte " << byte << " at " << at;
    }
  }
}

TEST(EventFormat, Utf8ValidationRefusesMalformedSequences) {
  EXPECT_TRUE(IsValidUtf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

TEST(Utf8, EqualIgnoringCaseFoldsUnicodeLettersOneForOne) {
  EXPECT_TRUE(EqualIgnoringCase("Carol@ACME.test", "carol@acme.test"));
  EXPECT_TRUE(EqualIgnoringCase("\xc3\x89LODIE", "\xc3\xa9lodie"));        // ÉLODIE, élodie
  EXPECT_TRUE(EqualIgnoringCase("\xd0\x94\xd0\x90", "\xd0\xb4\xd0\xb0"));  // ДА, да
  EXPECT_FALSE(EqualIgnoringCase("\xc3\xa9", "e"));                        // é is not e
  EXPECT_FALSE(EqualIgnoringCase("ab", "abc"));
  EXPECT_FALSE(
      EqualIgnoringCase("stra\xc3\x9f"
                        "e",
                        "STRASSE"));  // ß folds to ss only fully
  // A stray byte equals only itself.
  EXPECT_TRUE(EqualIgnoringCase("a\xff", "A\xff"));
  EXPECT_FALSE(EqualIgnoringCase("\xff", "\xfe"));
  EXPECT_FALSE(EqualIgnoringCase("\xc3", "\xc3\xa9"));
}

TEST(EventFormat, ToValidUtf8ReplacesEachStrayByte) {
  const std::string replacement = "\xef\xbf\xbd";  // U+FFFD
  EXPECT_EQ(ToValidUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(ToValidUtf8(std::string("a\xff") + "b\xc0\xaf"),
            "a" + replacement + "b" + replacement + replacement);
  EXPECT_EQ(ToValidUtf8("\xe2\x82"), replacement + replacement);  // truncated
  EXPECT_EQ(ToValidUtf8(""), "");
}

}  // namespace
}  // namespace custody::eventstore
