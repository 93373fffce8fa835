#include <gtest/gtest.h>

#include "eventstore/event_format.h"
#include "eventstore/event_store.h"
#include "eventstore/schema.h"
#include "eventstore/sqlite.h"
#include "tests/eventstore/test_util.h"

namespace custody::eventstore {
namespace {

using testing::AppendOne;
using testing::MakeEvent;
using testing::MakeRequest;
using testing::OpenStore;
using testing::RawDb;
using testing::TempDir;

// Builds a source log with several streams and commands and exports it through NDJSON text.
std::vector<Event> ExportedLog(const std::string& path) {
  auto store = OpenStore(path);
  EXPECT_TRUE(store
                  ->Append(MakeRequest("acme", "acme/instance",
                                       {MakeEvent("a", "bob"), MakeEvent("b", "bob")}, "c-1"))
                  .ok());
  AppendOne(*store, "acme", "acme/onboarding/bob", MakeEvent("step", "bob", "{\"step\":1}"));
  EXPECT_TRUE(
      store->Append(MakeRequest("globex", "globex/instance", {MakeEvent("a", "eve")}, "c-1")).ok());
  Event with_source = MakeEvent("c", "bob");
  with_source.source = {"127.0.0.1", "curl/7.88.1", "tok_0123"};
  with_source.correlation_id = "c-9";
  EXPECT_TRUE(store->Append(MakeRequest("acme", "acme/instance", {with_source}, "c-2")).ok());
  std::vector<Event> events;
  EXPECT_TRUE(store
                  ->Scan(Filter{},
                         [&](const Event& e) {
                           Result<Event> parsed = EventFromJson(EventToJson(e));
                           EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
                           events.push_back(parsed.ok() ? *parsed : e);
                           return true;
                         })
                  .ok());
  return events;
}

TEST(EventStoreImport, ExportImportsIntoAnEmptyDatabaseUnchanged) {
  TempDir dir;
  const std::vector<Event> events = ExportedLog(dir.File("source.db"));
  ASSERT_EQ(events.size(), 5u);
  auto target = OpenStore(dir.File("target.db"));
  std::vector<Event> heard;
  target->Subscribe([&](const std::vector<Event>& batch) {
    heard.insert(heard.end(), batch.begin(), batch.end());
  });
  ASSERT_TRUE(target->Import(events).ok());
  EXPECT_EQ(heard, events);
  EXPECT_EQ(target->HeadPosition(), 5);
  EXPECT_EQ(target->Query(Filter{}, 100)->events, events);
  Result<VerifyReport> report = target->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->head_hash, events.back().hash);

  // Idempotency keys and stream versions came along.
  EXPECT_EQ(*target->FindByCommandId("acme", "c-1"),
            std::vector<Event>(events.begin(), events.begin() + 2));
  EXPECT_EQ(*target->FindByCommandId("globex", "c-1"), std::vector<Event>{events[3]});
  Result<AppendResult> duplicate =
      target->Append(MakeRequest("acme", "acme/instance", {MakeEvent("x", "bob")}, "c-2"));
  ASSERT_TRUE(duplicate.ok());
  EXPECT_EQ(duplicate->outcome, AppendResult::Outcome::kDuplicate);
  Result<AppendResult> next =
      target->Append(MakeRequest("acme", "acme/instance", {MakeEvent("d", "bob")}, "", 3));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->outcome, AppendResult::Outcome::kAppended);
  EXPECT_EQ(next->events[0].position, 6);
  EXPECT_EQ(next->events[0].prev_hash, events.back().hash);
  EXPECT_TRUE(target->Verify()->ok);
}

TEST(EventStoreImport, ContinuesAnExistingChainInSeveralCalls) {
  TempDir dir;
  const std::vector<Event> events = ExportedLog(dir.File("source.db"));
  auto target = OpenStore(dir.File("target.db"));
  ASSERT_TRUE(target->Import({events.begin(), events.begin() + 2}).ok());
  ASSERT_TRUE(target->Import({events.begin() + 2, events.end()}).ok());
  EXPECT_EQ(target->Query(Filter{}, 100)->events, events);
  EXPECT_TRUE(target->Import({}).ok());
}

// The query indexes of the file, read on a connection of its own (what is committed).
std::vector<std::string> QueryIndexes(const std::string& path) {
  return RawDb(path).Column(
      "SELECT name FROM sqlite_schema WHERE type = 'index' AND name LIKE 'events_by_%' "
      "AND name != 'events_by_stream_version' ORDER BY name");
}

// Every trigger of the file, name and text, in name order.
std::vector<std::string> Triggers(const std::string& path) {
  return RawDb(path).Column(
      "SELECT name || ': ' || sql FROM sqlite_schema WHERE type = 'trigger' "
      "ORDER BY name");
}

const std::vector<std::string> kQueryIndexes = {"events_by_actor", "events_by_occurred_at",
                                                "events_by_subject", "events_by_tenant",
                                                "events_by_type"};

// An import drops the INSERT triggers for its transaction; they must come back, unchanged and
// still refusing what they refused before.
TEST(EventStoreImport, TheInsertTriggersAreBackAfterAnImport) {
  TempDir dir;
  const std::vector<Event> events = ExportedLog(dir.File("source.db"));
  const std::string path = dir.File("target.db");
  OpenStore(path).reset();
  const std::vector<std::string> before = Triggers(path);
  ASSERT_EQ(before.size(), 9u);
  {
    auto target = OpenStore(path);
    ASSERT_TRUE(target->Import({events.begin(), events.begin() + 2}).ok());
    EXPECT_EQ(Triggers(path), before);  // committed with them, the store still open
    // One dropped behind the store's back comes back with the next import.
    ASSERT_EQ(RawDb(path).Exec("DROP TRIGGER streams_no_replace"), SQLITE_OK);
    ASSERT_TRUE(target->Import({events.begin() + 2, events.end()}).ok());
  }
  EXPECT_EQ(Triggers(path), before);
  RawDb raw(path);
  std::string error;
  EXPECT_NE(
      raw.Exec("INSERT OR REPLACE INTO events SELECT * FROM events WHERE position = 2", &error),
      SQLITE_OK);
  EXPECT_NE(error.find("head + 1"), std::string::npos) << error;
  EXPECT_NE(raw.Exec("INSERT OR REPLACE INTO commands SELECT tenant, command_id, 1, 1 FROM "
                     "commands",
                     &error),
            SQLITE_OK);
  EXPECT_NE(error.find("append-only"), std::string::npos) << error;
  EXPECT_NE(raw.Exec("INSERT OR REPLACE INTO streams SELECT id, name, 'x' FROM streams", &error),
            SQLITE_OK);
  EXPECT_NE(error.find("append-only"), std::string::npos) << error;
  EXPECT_EQ(raw.Column("SELECT count(*) FROM events"), std::vector<std::string>{"5"});
}

// Without its triggers for the import's transaction, the log must still refuse an import whose
// writer missed an append made through another connection: the position's primary key does.
TEST(EventStoreImport, AnImportBehindAnotherWritersAppendIsRefused) {
  TempDir dir;
  const std::vector<Event> events = ExportedLog(dir.File("source.db"));
  const std::string other_path = dir.File("other.db");
  {
    auto other = OpenStore(other_path);
    // A stream the import does not touch, so that only the position can tell.
    AppendOne(*other, "initech", "initech/instance", MakeEvent("first", "x"));
  }
  const std::string path = dir.File("target.db");
  auto importer = OpenStore(path);
  const std::vector<std::string> triggers = Triggers(path);
  // Another writer that ignores custody's writer lock (plain SQLite) appends behind the
  // importer's back.
  ASSERT_EQ(RawDb(path).Exec("ATTACH '" + other_path +
                             "' AS other; INSERT INTO streams SELECT * FROM other.streams; "
                             "INSERT INTO events SELECT * FROM other.events"),
            SQLITE_OK);
  const Status status = importer->Import(events);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kConflict) << status.ToString();
  EXPECT_EQ(Triggers(path), triggers);
  importer.reset();
  auto reopened = OpenStore(path);
  EXPECT_EQ(reopened->HeadPosition(), 1);
  EXPECT_EQ(reopened->Query(Filter{}, 10)->events.at(0).type, "first");
  EXPECT_TRUE(reopened->Verify()->ok);
}

TEST(EventStoreImport, AnEmptyImportLeavesTheSchemaAlone) {
  TempDir dir;
  const std::string path = dir.File("target.db");
  auto target = OpenStore(path);
  RawDb raw(path);
  const std::vector<std::string> version = raw.Column("PRAGMA schema_version");
  ASSERT_TRUE(target->Import({}).ok());
  EXPECT_EQ(raw.Column("PRAGMA schema_version"), version);
}

TEST(EventStoreImport, AnImportIntoAnEmptyLogBuildsTheQueryIndexesOnceBeforeOtherWork) {
  TempDir dir;
  const std::vector<Event> events = ExportedLog(dir.File("source.db"));
  const std::string path = dir.File("target.db");
  auto target = OpenStore(path);
  EXPECT_EQ(QueryIndexes(path), kQueryIndexes);
  ASSERT_TRUE(target->Import({events.begin(), events.begin() + 2}).ok());
  ASSERT_TRUE(target->Import({events.begin() + 2, events.end()}).ok());
  EXPECT_TRUE(QueryIndexes(path).empty());  // deferred while imports follow each other
  // Queries are answered meanwhile, only without the indexes' help.
  Filter by_actor;
  by_actor.actor = "eve";
  EXPECT_EQ(target->Query(by_actor, 10)->events, std::vector<Event>{events[3]});

  AppendOne(*target, "acme", "acme/instance", MakeEvent("after", "bob"));
  EXPECT_EQ(QueryIndexes(path), kQueryIndexes);
  by_actor.actor = "bob";
  EXPECT_EQ(target->Query(by_actor, 10)->events.size(), 5u);
  EXPECT_TRUE(target->Verify()->ok);
}

TEST(EventStoreImport, ClosingAfterAnImportBuildsTheQueryIndexes) {
  TempDir dir;
  const std::vector<Event> events = ExportedLog(dir.File("source.db"));
  const std::string path = dir.File("target.db");
  auto target = OpenStore(path);
  ASSERT_TRUE(target->Import(events).ok());
  target.reset();
  EXPECT_EQ(QueryIndexes(path), kQueryIndexes);
}

TEST(EventStoreImport, OpeningAFileWhoseImportWasCutOffBuildsTheMissingIndexes) {
  TempDir dir;
  const std::string path = dir.File("target.db");
  OpenStore(path).reset();
  {  // what a process killed during a bulk import leaves
    auto db = Database::Open(path, Database::Mode::kReadWrite);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Execute("DROP INDEX events_by_actor; DROP INDEX events_by_type").ok());
  }
  ASSERT_EQ(QueryIndexes(path).size(), kQueryIndexes.size() - 2);
  OpenStore(path).reset();
  EXPECT_EQ(QueryIndexes(path), kQueryIndexes);
}

// Imports `events` after `edit` and expects a kCorruption naming `position` and `problem`,
// with nothing written.
void ExpectRefused(std::vector<Event> events, const std::function<void(std::vector<Event>&)>& edit,
                   std::int64_t position, const std::string& problem) {
  TempDir dir;
  edit(events);
  const std::string target_path = dir.File("target.db");
  auto target = OpenStore(target_path);
  const std::vector<std::string> triggers = Triggers(target_path);
  const Status status = target->Import(events);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), Status::Code::kCorruption) << status.ToString();
  EXPECT_NE(status.message().find("position " + std::to_string(position)), std::string::npos)
      << status.message();
  EXPECT_NE(status.message().find(problem), std::string::npos) << status.message();
  EXPECT_EQ(target->HeadPosition(), 0);
  // Dropped in the rolled-back transaction, so back.
  EXPECT_EQ(QueryIndexes(target_path), kQueryIndexes);
  EXPECT_EQ(Triggers(target_path), triggers);
  EXPECT_TRUE(target->Query(Filter{}, 10)->events.empty());
  EXPECT_EQ(*target->StreamVersion("acme/instance"), 0);
  // The writer's memory was rolled back too: the next append starts the chain.
  Result<AppendResult> fresh =
      target->Append(MakeRequest("acme", "acme/instance", {MakeEvent("a", "x")}));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->events[0].position, 1);
  EXPECT_EQ(fresh->events[0].version, 1);
  EXPECT_EQ(fresh->events[0].prev_hash, kGenesisHash);
  EXPECT_TRUE(target->FindByCommandId("acme", "c-1")->empty());
}

TEST(EventStoreImport, RefusesAlteredOrMisplacedEventsAndWritesNothing) {
  TempDir dir;
  const std::vector<Event> events = ExportedLog(dir.File("source.db"));
  ExpectRefused(
      events, [](auto& e) { e[3].data = "{\"x\":1}"; }, 4, "hash");
  ExpectRefused(
      events, [](auto& e) { e[4].actor = "mallory"; }, 5, "hash");
  ExpectRefused(
      events, [](auto& e) { e.erase(e.begin() + 2); }, 3, "found position 4");
  ExpectRefused(
      events, [](auto& e) { std::swap(e[1], e[2]); }, 2, "found position 3");
  ExpectRefused(
      events, [](auto& e) { e[2].prev_hash = std::string(64, 'a'); }, 3, "prev_hash");
  ExpectRefused(
      events, [](auto& e) { e.erase(e.begin()); }, 1, "found position 2");
  ExpectRefused(
      events,
      [](auto& e) {
        e[4].version = 5;  // rehashed, so only the version check can catch it
        e[4].hash = ChainHash(e[4].prev_hash, e[4]);
      },
      5, "version 5");
  ExpectRefused(
      events,
      [](auto& e) {
        e[1].format = kEventFormat + 1;
        e[1].hash = ChainHash(e[1].prev_hash, e[1]);
      },
      2, "format");
  // A token beside a format 1 event would be stored without being hashed.
  ExpectRefused(
      events,
      [](auto& e) {
        e[4].format = 1;
        e[4].hash = ChainHash(e[4].prev_hash, e[4]);
      },
      5, "source.token is not part of format 1");
}

// The first `count` events made format 1 (as written before format 2), the chain rehashed.
std::vector<Event> WithFormat1Prefix(std::vector<Event> events, std::size_t count) {
  std::string prev_hash = kGenesisHash;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i < count) {
      events[i].format = 1;
      events[i].source.token.clear();
    }
    events[i].prev_hash = prev_hash;
    events[i].hash = ChainHash(prev_hash, events[i]);
    prev_hash = events[i].hash;
  }
  return events;
}

// A log written before format 2 goes on: its events keep format 1, the chain runs through
// both formats, and each reads back as it was.
TEST(EventStoreImport, EventsOfEveryFormatImportAndVerify) {
  TempDir dir;
  const std::vector<Event> events = WithFormat1Prefix(ExportedLog(dir.File("source.db")), 3);
  ASSERT_EQ(events[4].format, 2);
  ASSERT_EQ(events[4].source.token, "tok_0123");
  auto target = OpenStore(dir.File("target.db"));
  ASSERT_TRUE(target->Import(events).ok());
  EXPECT_EQ(target->Query(Filter{}, 100)->events, events);
  Result<VerifyReport> report = target->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  Result<AppendResult> next =
      target->Append(MakeRequest("acme", "acme/instance", {MakeEvent("d", "bob")}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->events[0].format, kEventFormat);
  EXPECT_TRUE(target->Verify()->ok);
  target.reset();

  // A token written beside a format 1 event is covered by no hash: never served, and found.
  {
    RawDb raw(dir.File("target.db"));
    std::string error;
    ASSERT_EQ(raw.Exec("DROP TRIGGER events_no_update; "
                       "UPDATE events SET source_token = 'tok_0bad0bad' WHERE position = 2",
                       &error),
              SQLITE_OK)
        << error;
  }
  auto edited = OpenStore(dir.File("target.db"));
  EXPECT_EQ(edited->Query(Filter{}, 100)->events[1].source.token, "");
  Result<VerifyReport> found = edited->Verify();
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->ok);
  EXPECT_EQ(found->first_bad_position, 2);
  EXPECT_NE(found->problem.find("source_token"), std::string::npos) << found->problem;
}

// A file of schema version 1 (before events had a source token): a reader reads it as it is,
// without writing to it; the first writer adds the column, and the old events stay format 1.
TEST(EventStoreImport, AVersion1FileIsReadAsItIsAndUpgradedByItsFirstWriter) {
  TempDir dir;
  const std::vector<Event> events = WithFormat1Prefix(ExportedLog(dir.File("source.db")), 5);
  const std::string path = dir.File("v1.db");
  ASSERT_TRUE(OpenStore(path)->Import(events).ok());
  {
    RawDb raw(path);
    std::string error;
    ASSERT_EQ(
        raw.Exec("ALTER TABLE events DROP COLUMN source_token; PRAGMA user_version = 1", &error),
        SQLITE_OK)
        << error;
  }
  {
    Result<std::unique_ptr<EventStore>> reader = EventStore::OpenReadOnly(path);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ((*reader)->Query(Filter{}, 100)->events, events);
    Result<VerifyReport> report = (*reader)->Verify();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << report->problem;
  }
  EXPECT_EQ(RawDb(path).Column("PRAGMA user_version"), std::vector<std::string>{"1"});

  auto writer = OpenStore(path);
  EXPECT_EQ(RawDb(path).Column("PRAGMA user_version"),
            std::vector<std::string>{std::to_string(kSchemaVersion)});
  EXPECT_EQ(writer->Query(Filter{}, 100)->events, events);
  Event next = MakeEvent("d", "bob");
  next.source.token = "tok_0123";
  Result<AppendResult> appended = writer->Append(MakeRequest("acme", "acme/instance", {next}));
  ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  EXPECT_EQ(appended->events[0].format, kEventFormat);
  EXPECT_EQ(writer->ReadStream("acme/instance")->back().source.token, "tok_0123");
  Result<VerifyReport> report = writer->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST(EventStoreImport, RefusesACommandIdUsedTwiceInATenant) {
  TempDir dir;
  std::vector<Event> events = ExportedLog(dir.File("source.db"));
  // The last event (acme) rehashed under the command id of acme's first command.
  events[4].command_id = "c-1";
  events[4].correlation_id = "c-1";
  events[4].hash = ChainHash(events[4].prev_hash, events[4]);
  ExpectRefused(
      events, [](auto&) {}, 5, "command_id 'c-1' was used before");

  // The same when the first use came with an earlier import.
  auto target = OpenStore(dir.File("continued.db"));
  ASSERT_TRUE(target->Import({events.begin(), events.begin() + 4}).ok());
  const Status status = target->Import({events.begin() + 4, events.end()});
  EXPECT_EQ(status.code(), Status::Code::kCorruption);
  EXPECT_NE(status.message().find("position 5: command_id 'c-1' was used before"),
            std::string::npos)
      << status.message();
  EXPECT_EQ(target->HeadPosition(), 4);
}

TEST(EventStoreImport, RefusesEventsThatDoNotFollowTheHead) {
  TempDir dir;
  const std::vector<Event> events = ExportedLog(dir.File("source.db"));
  auto target = OpenStore(dir.File("target.db"));
  AppendOne(*target, "acme", "acme/instance", MakeEvent("local", "x"));
  const Status status = target->Import(events);
  EXPECT_EQ(status.code(), Status::Code::kCorruption);
  EXPECT_EQ(target->HeadPosition(), 1);
  EXPECT_TRUE(target->Verify()->ok);
}

}  // namespace
}  // namespace custody::eventstore
