// Edits the file behind the store's back, as someone with write access to it could, and
// checks that Verify names the first altered position.

#include <filesystem>

#include <gtest/gtest.h>

#include "eventstore/event_format.h"
#include "eventstore/event_store.h"
#include "eventstore/reads.h"
#include "eventstore/schema.h"
#include "eventstore/siphash.h"
#include "tests/eventstore/test_util.h"

namespace custody::eventstore {
namespace {

using testing::AppendOne;
using testing::MakeEvent;
using testing::OpenStore;
using testing::RawDb;
using testing::TempDir;

constexpr int kEvents = 10;

constexpr char kDropTriggers[] =
    "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete; "
    "DROP TRIGGER events_append_at_head;";

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = OpenStore(path_);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < kEvents; ++i) {
      // Every other append carries a command id, so the commands table has rows too.
      Result<AppendResult> result = store->Append(
          testing::MakeRequest("t", "t/" + std::to_string(i % 3),
                               {MakeEvent("e" + std::to_string(i), "actor" + std::to_string(i),
                                          "{\"i\":" + std::to_string(i) + "}")},
                               i % 2 == 0 ? "cmd-" + std::to_string(i) : ""));
      ASSERT_TRUE(result.ok()) << result.status().ToString();
    }
  }

  // Runs `sql` on the closed store's file with the triggers dropped, then verifies.
  VerifyReport TamperAndVerify(const std::string& sql) {
    {
      RawDb raw(path_);
      std::string error;
      EXPECT_EQ(raw.Exec(kDropTriggers, &error), SQLITE_OK) << error;
      EXPECT_EQ(raw.Exec(sql, &error), SQLITE_OK) << error;
    }
    auto store = OpenStore(path_);
    if (store == nullptr) return {};
    Result<VerifyReport> report = store->Verify();
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok()) return {};
    ExpectSameWithRanges(*report);
    return *report;
  }

  // Split into ranges checked in parallel, the log must give the same answer as in one pass.
  void ExpectSameWithRanges(const VerifyReport& single) {
    Result<std::unique_ptr<Database>> db =
        OpenCustodyDatabase(path_, OpenOptions{Database::Mode::kReadOnly, true});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (int threads : {1, 2, 3, 4, 7}) {
      Result<VerifyReport> ranged = VerifyChain(**db, {threads});
      ASSERT_TRUE(ranged.ok()) << ranged.status().ToString();
      EXPECT_EQ(ranged->ok, single.ok) << threads << " threads";
      EXPECT_EQ(ranged->first_bad_position, single.first_bad_position) << threads << " threads";
      EXPECT_EQ(ranged->events, single.events) << threads << " threads";
      EXPECT_EQ(ranged->head_hash, single.head_hash) << threads << " threads";
    }
    // In chunks checked one after the other, each in its own read transaction: the same too.
    for (std::int64_t chunk : {1, 2, 3, 5, 1000}) {
      VerifyOptions options;
      options.chunk = chunk;
      Result<VerifyReport> chunked = VerifyChain(**db, options);
      ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
      EXPECT_EQ(chunked->ok, single.ok) << "chunks of " << chunk;
      EXPECT_EQ(chunked->first_bad_position, single.first_bad_position) << "chunks of " << chunk;
      EXPECT_EQ(chunked->events, single.events) << "chunks of " << chunk;
      EXPECT_EQ(chunked->head_hash, single.head_hash) << "chunks of " << chunk;
    }
    // A check asked to stop ends without a verdict.
    const std::atomic<bool> stop{true};
    VerifyOptions stopped;
    stopped.chunk = 2;
    stopped.cancel = &stop;
    EXPECT_EQ(VerifyChain(**db, stopped).status().code(), Status::Code::kBusy);
  }

  void ExpectBadAt(const std::string& sql, std::int64_t position, const std::string& problem) {
    const VerifyReport report = TamperAndVerify(sql);
    EXPECT_FALSE(report.ok) << sql;
    EXPECT_EQ(report.first_bad_position, position) << sql << ": " << report.problem;
    EXPECT_NE(report.problem.find(problem), std::string::npos) << report.problem;
    EXPECT_EQ(report.events, position) << "counts the events read up to the bad one";
  }

  TempDir dir_;
  const std::string path_ = dir_.File("log.db");
};

TEST_F(TamperTest, IntactLogVerifies) {
  auto store = OpenStore(path_);
  Result<VerifyReport> report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events, kEvents);
  EXPECT_EQ(report->head_position, kEvents);
  EXPECT_EQ(report->head_hash, store->Query(Filter{}, 100)->events.back().hash);
  EXPECT_FALSE(report->first_bad_position.has_value());
  ExpectSameWithRanges(*report);
}

TEST_F(TamperTest, TriggersRefuseUpdateDeleteAndReplace) {
  RawDb raw(path_);
  std::string error;
  EXPECT_NE(raw.Exec("UPDATE events SET data = '{}' WHERE position = 3", &error), SQLITE_OK);
  EXPECT_NE(error.find("append-only"), std::string::npos) << error;
  EXPECT_NE(raw.Exec("DELETE FROM events WHERE position = 10", &error), SQLITE_OK);
  EXPECT_NE(error.find("append-only"), std::string::npos) << error;
  EXPECT_NE(
      raw.Exec("INSERT OR REPLACE INTO events SELECT * FROM events WHERE position = 2", &error),
      SQLITE_OK);
  EXPECT_NE(error.find("head + 1"), std::string::npos) << error;
  EXPECT_NE(raw.Exec("UPDATE streams SET name = 'x'", &error), SQLITE_OK);
  EXPECT_NE(raw.Exec("DELETE FROM streams", &error), SQLITE_OK);
  EXPECT_NE(raw.Exec("DELETE FROM commands", &error), SQLITE_OK);
  EXPECT_NE(raw.Exec("UPDATE commands SET first_position = 1", &error), SQLITE_OK);
  EXPECT_NE(raw.Exec("INSERT OR REPLACE INTO commands SELECT tenant, command_id, 1, 1 FROM "
                     "commands",
                     &error),
            SQLITE_OK);
  EXPECT_NE(
      raw.Exec("INSERT OR REPLACE INTO streams SELECT id, name, 'other' FROM streams", &error),
      SQLITE_OK);
  EXPECT_EQ(raw.Column("SELECT DISTINCT tenant FROM streams"), std::vector<std::string>{"t"});
  EXPECT_EQ(raw.Column("SELECT data FROM events WHERE position = 3"),
            std::vector<std::string>{"{\"i\":2}"});
  EXPECT_EQ(raw.Column("SELECT count(*) FROM events"), std::vector<std::string>{"10"});
  EXPECT_EQ(raw.Column("SELECT count(*) FROM commands"), std::vector<std::string>{"5"});
}

// The commands table is outside the hash chain: a row altered to name other events, part of
// its command's, none, or more, must never answer a retry, on the read path as on the
// writer's. cmd-0 wrote positions 1 and 2, cmd-1 position 3.
TEST_F(TamperTest, ACommandRowNotNamingExactlyItsEventsIsCorruption) {
  for (const char* edit : {
           "UPDATE commands SET first_position = 3, event_count = 1 WHERE command_id = 'cmd-0'",
           "UPDATE commands SET first_position = 2, event_count = 1 WHERE command_id = 'cmd-0'",
           "UPDATE commands SET event_count = 1 WHERE command_id = 'cmd-0'",
           "UPDATE commands SET event_count = 3 WHERE command_id = 'cmd-0'",
           "UPDATE commands SET event_count = 0 WHERE command_id = 'cmd-0'",
           "UPDATE commands SET event_count = 9223372036854775807 WHERE command_id = 'cmd-0'",
           "UPDATE commands SET first_position = 9223372036854775807 WHERE command_id = 'cmd-0'",
       }) {
    TempDir dir;
    const std::string path = dir.File("c.db");
    {
      auto store = OpenStore(path);
      ASSERT_NE(store, nullptr);
      ASSERT_TRUE(
          store
              ->Append(testing::MakeRequest(
                  "t", "t/a", {MakeEvent("e", "a", "{}"), MakeEvent("e", "a", "{}")}, "cmd-0"))
              .ok());
      ASSERT_TRUE(
          store->Append(testing::MakeRequest("t", "t/a", {MakeEvent("e", "a", "{}")}, "cmd-1"))
              .ok());
      ASSERT_EQ(store->FindByCommandId("t", "cmd-0")->size(), 2u);
    }
    {
      RawDb raw(path);
      std::string error;
      ASSERT_EQ(raw.Exec("DROP TRIGGER commands_no_update", &error), SQLITE_OK) << error;
      ASSERT_EQ(raw.Exec(edit, &error), SQLITE_OK) << error;
    }
    auto store = OpenStore(path);
    ASSERT_NE(store, nullptr);
    Result<std::vector<Event>> found = store->FindByCommandId("t", "cmd-0");
    ASSERT_FALSE(found.ok()) << edit;
    EXPECT_EQ(found.status().code(), Status::Code::kCorruption) << edit;
    EXPECT_NE(found.status().message().find("not exactly its events"), std::string::npos)
        << found.status().ToString();
    Result<AppendResult> retry =
        store->Append(testing::MakeRequest("t", "t/a", {MakeEvent("e", "a", "{}")}, "cmd-0"));
    ASSERT_FALSE(retry.ok()) << edit;
    EXPECT_EQ(retry.status().code(), Status::Code::kCorruption) << edit;
    EXPECT_EQ(store->HeadPosition(), 3) << edit;  // nothing appended either
    // Intact rows still answer, and other commands still append.
    EXPECT_EQ(store->FindByCommandId("t", "cmd-1")->size(), 1u) << edit;
    EXPECT_TRUE(
        store->Append(testing::MakeRequest("t", "t/b", {MakeEvent("e", "a", "{}")}, "cmd-2")).ok());
  }
}

// The commands table is outside the chain too: verify reports a row renamed, removed, added,
// moved, or two rows' ids swapped (which keeps every number of the table the same).
TEST_F(TamperTest, AnAlteredCommandsTableIsReported) {
  const std::vector<std::string> edits = {
      "UPDATE commands SET command_id = 'renamed' WHERE command_id = 'cmd-2'",
      "DELETE FROM commands WHERE command_id = 'cmd-4'",
      "INSERT INTO commands VALUES ('t', 'extra', 2, 1)",
      "UPDATE commands SET command_id = 'swap' WHERE command_id = 'cmd-0'; "
      "UPDATE commands SET command_id = 'cmd-0' WHERE command_id = 'cmd-6'; "
      "UPDATE commands SET command_id = 'cmd-6' WHERE command_id = 'swap'",
      "UPDATE commands SET first_position = 4 WHERE command_id = 'cmd-2'",
      "UPDATE commands SET tenant = 'u' WHERE command_id = 'cmd-8'",
      "UPDATE commands SET event_count = 5 WHERE command_id = 'cmd-8'",
      // The same bytes as a blob: the row no longer answers its command id's lookup.
      "UPDATE commands SET command_id = CAST(command_id AS BLOB) WHERE command_id = 'cmd-2'",
      // Past the head: a planted row would refuse that id for ever after.
      "INSERT INTO commands VALUES ('t', 'future', 1000, 1)",
      // Events removed from the end leave their command rows behind.
      "DROP TRIGGER events_no_delete; DELETE FROM events WHERE position >= 9",
  };
  for (std::size_t k = 0; k < edits.size(); ++k) {
    const std::string copy = dir_.File("copy" + std::to_string(k) + ".db");
    std::filesystem::copy_file(path_, copy);
    {
      RawDb raw(copy);
      std::string error;
      ASSERT_EQ(raw.Exec("DROP TRIGGER commands_no_update; DROP TRIGGER commands_no_delete; "
                         "DROP TRIGGER commands_no_replace; " +
                             edits[k],
                         &error),
                SQLITE_OK)
          << error;
    }
    auto store = OpenStore(copy);
    ASSERT_NE(store, nullptr);
    Result<VerifyReport> report = store->Verify();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_FALSE(report->ok) << edits[k];
    EXPECT_TRUE(report->commands_altered) << edits[k];
    EXPECT_FALSE(report->first_bad_position.has_value()) << edits[k];  // every event checks out
    EXPECT_EQ(report->events, report->head_position) << edits[k];
    EXPECT_NE(report->problem.find("commands table"), std::string::npos) << report->problem;
    // The same in parallel ranges, and in chunks and pages of their own transactions.
    Result<std::unique_ptr<Database>> db =
        OpenCustodyDatabase(copy, OpenOptions{Database::Mode::kReadOnly, true});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    for (const VerifyOptions& options :
         {VerifyOptions{.threads = 3}, VerifyOptions{.chunk = 1}, VerifyOptions{.chunk = 3}}) {
      Result<VerifyReport> again = VerifyChain(**db, options);
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      EXPECT_TRUE(again->commands_altered) << edits[k] << " in chunks of " << options.chunk;
    }
  }
}

// The vectors of the SipHash paper (appendix A) and its reference code: key 00 01 .. 0f,
// messages 00 01 .. of 0, 8, 15 and 63 bytes.
TEST(SipHash, PaperVectors) {
  SipKey key{};
  for (unsigned i = 0; i < 16; ++i) {
    key[i / 8] |= std::uint64_t{i} << (8 * (i % 8));
  }
  std::string message;
  EXPECT_EQ(SipHash24(key, message), 0x726fdb47dd0e0e31ULL);
  for (char c = 0; c < 8; ++c) message.push_back(c);
  EXPECT_EQ(SipHash24(key, message), 0x93f5f5799a932462ULL);
  for (char c = 8; c < 15; ++c) message.push_back(c);
  EXPECT_EQ(SipHash24(key, message), 0xa129ca6149be45e5ULL);
  for (char c = 15; c < 63; ++c) message.push_back(c);
  EXPECT_EQ(SipHash24(key, message), 0x958a324ceb064572ULL);
}

TEST_F(TamperTest, EditedPayloadIsDetected) {
  ExpectBadAt("UPDATE events SET data = '{\"i\":99}' WHERE position = 4", 4, "hash");
}

TEST_F(TamperTest, EditedActorIsDetected) {
  ExpectBadAt("UPDATE events SET actor = 'mallory' WHERE position = 7", 7, "hash");
}

TEST_F(TamperTest, EditedTimeIsDetected) {
  ExpectBadAt("UPDATE events SET occurred_at = occurred_at + 1 WHERE position = 2", 2, "hash");
}

TEST_F(TamperTest, EditedTypeIsDetected) {
  ExpectBadAt("UPDATE events SET type = 'innocent' WHERE position = 10", 10, "hash");
}

TEST_F(TamperTest, DeletedRowIsDetected) {
  ExpectBadAt("DELETE FROM events WHERE position = 5", 5, "missing");
}

TEST_F(TamperTest, TruncatedTailNeedsAnOutsideCopyOfTheHead) {
  // A shorter chain is still a valid chain: only a head kept elsewhere shows the loss.
  const VerifyReport report = TamperAndVerify("DELETE FROM events WHERE position = 10");
  EXPECT_TRUE(report.ok);
  EXPECT_EQ(report.head_position, 9);
}

TEST_F(TamperTest, ReorderedRowsAreDetected) {
  const std::string columns =
      "stream_id, version, recorded_at, occurred_at, format, prev_hash, hash, id, type, tenant, "
      "actor, subject, command_id, correlation_id, source_ip, source_user_agent, data";
  // The unique (stream, version) index would refuse the swap; a tamperer drops it too.
  ExpectBadAt(
      "DROP INDEX events_by_stream_version;"
      "CREATE TEMP TABLE a AS SELECT * FROM events WHERE position = 6;"
      "CREATE TEMP TABLE b AS SELECT * FROM events WHERE position = 7;"
      "UPDATE events SET (" +
          columns + ") = (SELECT " + columns +
          " FROM b) WHERE position = 6;"
          "UPDATE events SET (" +
          columns + ") = (SELECT " + columns + " FROM a) WHERE position = 7;",
      6, "prev_hash");
}

TEST_F(TamperTest, WrongPrevHashIsDetected) {
  ExpectBadAt("UPDATE events SET prev_hash = zeroblob(32) WHERE position = 3", 3, "prev_hash");
}

TEST_F(TamperTest, EditedHashIsDetected) {
  ExpectBadAt("UPDATE events SET hash = randomblob(32) WHERE position = 8", 8, "hash");
}

TEST_F(TamperTest, EditWithRecomputedHashBreaksTheNextLink) {
  // Someone who edits an event and recomputes its hash still breaks the next prev_hash.
  Event edited;
  {
    auto store = OpenStore(path_);
    edited = store->Query(Filter{}, 100)->events[7];
  }
  edited.data = "{\"i\":700}";
  const std::string hash = ChainHash(edited.prev_hash, edited);
  ExpectBadAt(
      "UPDATE events SET data = '" + edited.data + "', hash = x'" + hash + "' WHERE position = 8",
      9, "prev_hash");
}

TEST_F(TamperTest, EditedVersionIsDetected) {
  ExpectBadAt("UPDATE events SET version = 9 WHERE position = 9", 9, "version");
}

}  // namespace
}  // namespace custody::eventstore
