#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "eventstore/event_store.h"
#include "eventstore/schema.h"
#include "eventstore/token_store.h"
#include "tests/eventstore/test_util.h"

namespace custody::eventstore {
namespace {

using testing::AppendOne;
using testing::MakeEvent;
using testing::MakeRequest;
using testing::OpenStore;
using testing::RawDb;
using testing::ReadFile;
using testing::TempDir;

std::string RandomBytes(std::size_t size) {
  std::mt19937 random(42);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// For a child process: root ignores file permissions, so it becomes nobody first.
void BecomeUnprivileged() {
  constexpr uid_t kNobody = 65534;
  if (geteuid() == 0 && (setgid(kNobody) != 0 || setuid(kNobody) != 0)) std::_Exit(90);
}

// Runs `open` in a child process as an unprivileged user: it must fail with kIOError, saying
// `message`.
template <typename Open>
void ExpectIoErrorUnprivileged(Open open, const std::string& message) {
  EXPECT_EXIT(
      {
        BecomeUnprivileged();
        const Status status = open();
        std::fprintf(stderr, "%s\n", status.ToString().c_str());
        std::_Exit(status.code() == Status::Code::kIOError ? 0 : 2);
      },
      ::testing::ExitedWithCode(0), message);
}

TEST(EventStoreOpen, NewFileGetsTheSchemaAndIdentity) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  { ASSERT_NE(OpenStore(path), nullptr); }
  RawDb raw(path);
  EXPECT_EQ(raw.Column("PRAGMA application_id"),
            std::vector<std::string>{std::to_string(kApplicationId)});
  EXPECT_EQ(raw.Column("PRAGMA user_version"),
            std::vector<std::string>{std::to_string(kSchemaVersion)});
  EXPECT_EQ(raw.Column("PRAGMA journal_mode"), std::vector<std::string>{"wal"});
  EXPECT_EQ(raw.Column("SELECT name FROM sqlite_schema WHERE name = 'events'").size(), 1u);
}

TEST(EventStoreOpen, EmptyLogVerifiesWithGenesisHead) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  EXPECT_EQ(store->HeadPosition(), 0);
  Result<VerifyReport> report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->events, 0);
  EXPECT_EQ(report->head_position, 0);
  EXPECT_EQ(report->head_hash, std::string(64, '0'));
  EXPECT_FALSE(report->first_bad_position.has_value());
  EXPECT_TRUE(store->Query(Filter{}, 10)->events.empty());
}

TEST(EventStoreOpen, ReopeningKeepsTheLogAndContinuesTheChain) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  std::string head_hash;
  {
    auto store = OpenStore(path);
    AppendOne(*store, "t", "t/s", MakeEvent("a", "x"));
    head_hash = store->ReadStream("t/s")->back().hash;
  }
  auto store = OpenStore(path);
  EXPECT_EQ(store->HeadPosition(), 1);
  Result<AppendResult> next = store->Append(MakeRequest("t", "t/s", {MakeEvent("b", "x")}, "", 1));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->outcome, AppendResult::Outcome::kAppended);
  EXPECT_EQ(next->events[0].position, 2);
  EXPECT_EQ(next->events[0].prev_hash, head_hash);
  EXPECT_TRUE(store->Verify()->ok);
}

TEST(EventStoreOpen, RandomBytesAreNotADatabaseAndStayUntouched) {
  TempDir dir;
  const std::string path = dir.File("random.bin");
  const std::string bytes = RandomBytes(8192);
  WriteFile(path, bytes);
  Result<std::unique_ptr<EventStore>> store = EventStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kCorruption) << store.status().ToString();
  EXPECT_EQ(EventStore::OpenReadOnly(path).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(TokenStore::Open(path).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(ReadFile(path), bytes);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(EventStoreOpen, OtherApplicationsDatabaseIsRefusedAndUntouched) {
  TempDir dir;
  const std::string path = dir.File("other.db");
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hi');"),
              SQLITE_OK);
  }
  const std::string before = ReadFile(path);
  Result<std::unique_ptr<EventStore>> store = EventStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kCorruption);
  EXPECT_NE(store.status().message().find("not a custody database"), std::string::npos);
  EXPECT_EQ(ReadFile(path), before);
}

TEST(EventStoreOpen, NewerSchemaVersionIsNotSupportedAndUntouched) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  { ASSERT_NE(OpenStore(path), nullptr); }
  {
    RawDb raw(path);
    ASSERT_EQ(raw.Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1)), SQLITE_OK);
  }
  const std::string before = ReadFile(path);
  Result<std::unique_ptr<EventStore>> store = EventStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kNotSupported) << store.status().ToString();
  EXPECT_EQ(EventStore::OpenReadOnly(path).status().code(), Status::Code::kNotSupported);
  EXPECT_EQ(ReadFile(path), before);
}

TEST(EventStoreOpen, ReadOnlyOfMissingFileIsNotFound) {
  TempDir dir;
  const std::string path = dir.File("missing.db");
  EXPECT_EQ(EventStore::OpenReadOnly(path).status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(EventStoreOpen, ReadOnlyNeverWrites) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  {
    auto store = OpenStore(path);
    AppendOne(*store, "t", "t/s", MakeEvent("a", "x"));
    AppendOne(*store, "t", "t/s", MakeEvent("b", "x"));
  }
  const std::string before = ReadFile(path);
  struct stat stat_before {};
  ASSERT_EQ(stat(path.c_str(), &stat_before), 0);
  {
    Result<std::unique_ptr<EventStore>> opened = EventStore::OpenReadOnly(path);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EventStore& store = **opened;
    EXPECT_EQ(store.HeadPosition(), 2);
    EXPECT_TRUE(store.Verify()->ok);
    EXPECT_EQ(store.Query(Filter{}, 10)->events.size(), 2u);
    Result<AppendResult> append = store.Append(MakeRequest("t", "t/s", {MakeEvent("c", "x")}));
    ASSERT_FALSE(append.ok());
    EXPECT_EQ(append.status().code(), Status::Code::kNotSupported);
    EXPECT_FALSE(store.Import({}).ok());
    EXPECT_FALSE(store.SaveSnapshot({"s", 1, 1, "b"}).ok());
  }
  struct stat stat_after {};
  ASSERT_EQ(stat(path.c_str(), &stat_after), 0);
  EXPECT_EQ(ReadFile(path), before);
  EXPECT_EQ(stat_after.st_mtim.tv_sec, stat_before.st_mtim.tv_sec);
  EXPECT_EQ(stat_after.st_mtim.tv_nsec, stat_before.st_mtim.tv_nsec);
  // Like any SQLite reader of a WAL database it may create the -wal and -shm companions, but it
  // never writes a frame into the log.
  std::error_code error;
  const auto wal = std::filesystem::file_size(path + "-wal", error);
  if (!error) {
    EXPECT_EQ(wal, 0u);
  }
}

TEST(EventStoreOpen, ReadOnlySeesAnotherWritersAppends) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  auto writer = OpenStore(path);
  AppendOne(*writer, "t", "t/s", MakeEvent("a", "x"));
  Result<std::unique_ptr<EventStore>> reader = EventStore::OpenReadOnly(path);
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->HeadPosition(), 1);
  AppendOne(*writer, "t", "t/s", MakeEvent("b", "x"));
  EXPECT_EQ((*reader)->HeadPosition(), 2);
  EXPECT_EQ((*reader)->ReadStream("t/s")->size(), 2u);
}

TEST(EventStoreOpen, OneWriterAtATimeReadersAndTokensAlongside) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  auto first = OpenStore(path);
  AppendOne(*first, "t", "t/s", MakeEvent("a", "x"));

  Result<std::unique_ptr<EventStore>> second = EventStore::Open(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kBusy);
  EXPECT_NE(second.status().message().find("open for writing by another process"),
            std::string::npos)
      << second.status().ToString();
  // Readers and the token store are not writers of the log.
  Result<std::unique_ptr<EventStore>> reader = EventStore::OpenReadOnly(path);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->HeadPosition(), 1);
  EXPECT_TRUE(TokenStore::Open(path).ok());

  // The same file through a symbolic link, or a path with "..", is the same log.
  const std::string link = dir.File("link.db");
  std::filesystem::create_symlink(path, link);
  std::filesystem::create_directories(dir.File("sub"));
  for (const std::string& other : {link, dir.File("sub/../log.db")}) {
    EXPECT_EQ(EventStore::Open(other).status().code(), Status::Code::kBusy) << other;
  }

  first.reset();  // the lock goes with the store
  auto reopened = OpenStore(path);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(AppendOne(*reopened, "t", "t/s", MakeEvent("b", "x")), 2);
}

TEST(EventStoreOpen, AFileTheWriterCannotWriteIsRefusedAtOnce) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  AppendOne(*OpenStore(path), "t", "t/s", MakeEvent("a", "x"));
  // The folder stays writable (SQLite's -wal and -shm, the lock): only the file is not.
  ASSERT_EQ(chmod(dir.path().c_str(), 0777), 0);
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  ExpectIoErrorUnprivileged([&] { return EventStore::Open(path).status(); },
                            "log.db cannot be written");
}

TEST(EventStoreOpen, AReaderThatCannotCreateTheShmFileSaysWhy) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  AppendOne(*OpenStore(path), "t", "t/s", MakeEvent("a", "x"));
  // A clean close leaves the log in the file alone; a reader must create the -shm again.
  ASSERT_FALSE(std::filesystem::exists(path + "-shm"));
  ASSERT_EQ(chmod(path.c_str(), 0444), 0);
  ASSERT_EQ(chmod(dir.path().c_str(), 0555), 0);
  ExpectIoErrorUnprivileged([&] { return EventStore::OpenReadOnly(path).status(); },
                            "a reader needs the folder or an existing -shm");
  EXPECT_FALSE(std::filesystem::exists(path + "-shm"));
  ASSERT_EQ(chmod(dir.path().c_str(), 0755), 0);
}

TEST(EventStoreOpen, DatabaseSizeCountsTheFileAndItsWal) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  const std::int64_t empty = *store->DatabaseSizeBytes();
  EXPECT_GT(empty, 0);
  AppendOne(*store, "t", "t/s",
            MakeEvent("a", "x", "{\"pad\":\"" + std::string(100000, 'p') + "\"}"));
  EXPECT_GE(*store->DatabaseSizeBytes(), empty + 100000);
}

}  // namespace
}  // namespace custody::eventstore
