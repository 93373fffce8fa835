// A full or failing disk under the event store: appends are refused whole, nothing partial is
// visible, the chain still verifies, and the store recovers by itself once the disk does.

#include <sqlite3.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "eventstore/event_store.h"
#include "tests/hardening/fault_vfs.h"
#include "tests/support/temp_dir.h"

namespace custody::hardening {
namespace {

using eventstore::AppendRequest;
using eventstore::AppendResult;
using eventstore::EventStore;

class StorageFault : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(FaultVfs::Register());
    FaultVfs::Clear();
    path_ = dir_.File("log.db");
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    FaultVfs::Clear();
    store_.reset();
  }

  std::unique_ptr<EventStore> Open() {
    eventstore::Options options;
    options.vfs_name = kFaultVfsName;
    auto store = EventStore::Open(path_, options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // `count` events for stream s<stream>, each naming its serial in its data.
  static AppendRequest Request(int stream, int count, int serial, std::string command_id = "") {
    AppendRequest request;
    request.tenant = "t";
    request.stream = "t/s" + std::to_string(stream);
    request.command_id = std::move(command_id);
    for (int i = 0; i < count; ++i) {
      Event event;
      event.type = "fault.test";
      event.actor = "a";
      event.occurred_at = 1795255200000;
      event.data = "{\"serial\":" + std::to_string(serial) + ",\"i\":" + std::to_string(i) + "}";
      request.events.push_back(std::move(event));
    }
    return request;
  }

  // Every event on disk, read through a fresh connection on the default VFS.
  std::vector<Event> OnDisk() {
    std::vector<Event> events;
    auto reader = EventStore::OpenReadOnly(path_);
    EXPECT_TRUE(reader.ok()) << reader.status().ToString();
    if (!reader.ok()) return events;
    EXPECT_TRUE((*reader)
                    ->Scan({},
                           [&](const Event& event) {
                             events.push_back(event);
                             return true;
                           })
                    .ok());
    auto report = (*reader)->Verify();
    EXPECT_TRUE(report.ok() && report->ok) << (report.ok() ? report->problem : "");
    return events;
  }

  testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<EventStore> store_;
};

TEST_F(StorageFault, FullDiskRefusesTheAppendWholeAndTheNextOneSucceeds) {
  ASSERT_TRUE(store_->Append(Request(1, 2, 1)).ok());
  FaultVfs::FailWrites(SQLITE_FULL);
  auto refused = store_->Append(Request(1, 3, 2, "c-2"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kFull) << refused.status().ToString();
  EXPECT_GT(FaultVfs::injected(), 0);
  EXPECT_EQ(store_->HeadPosition(), 2);
  EXPECT_EQ(OnDisk().size(), 2u);
  auto snapshot = store_->SaveSnapshot({"p", 1, 2, "blob"});
  EXPECT_EQ(snapshot.code(), Status::Code::kFull);

  FaultVfs::Clear();
  // The same command again: nothing of it was kept, so it is appended, not a duplicate.
  auto retried = store_->Append(Request(1, 3, 2, "c-2"));
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(retried->outcome, AppendResult::Outcome::kAppended);
  EXPECT_EQ(retried->events.front().position, 3);
  EXPECT_EQ(retried->events.front().version, 3);
  EXPECT_EQ(retried->stream_version, 5);
  const std::vector<Event> events = OnDisk();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[4].hash, retried->events.back().hash);
}

// A write failing at each point of the commit in turn (WAL frames, the commit frame): every
// append is all or nothing, and memory (head, stream versions) follows disk.
TEST_F(StorageFault, AWriteFailingAnywhereInTheCommitLeavesNothingBehind) {
  // How many writes one such append makes: the fault is aimed at each of them, then past them.
  const std::int64_t before = FaultVfs::writes();
  auto measured = store_->Append(Request(0, 4, 0));
  ASSERT_TRUE(measured.ok());
  const std::int64_t writes = FaultVfs::writes() - before;
  ASSERT_GT(writes, 0);
  std::vector<Event> acknowledged = measured->events;
  int serial = 0;
  int failed = 0, survived = 0;  // appends the fault hit, and appends it came too late for
  for (int after = 0; after < writes + 3; ++after) {
    FaultVfs::FailWrites(after % 2 == 0 ? SQLITE_IOERR_WRITE : SQLITE_FULL, after);
    auto result = store_->Append(Request(after % 3, 4, ++serial));
    FaultVfs::Clear();
    if (result.ok()) {
      ++survived;
      acknowledged.insert(acknowledged.end(), result->events.begin(), result->events.end());
    } else {
      ++failed;
      EXPECT_TRUE(result.status().code() == Status::Code::kIOError ||
                  result.status().code() == Status::Code::kFull)
          << result.status().ToString();
    }
    EXPECT_EQ(store_->HeadPosition(), static_cast<std::int64_t>(acknowledged.size()));
    // The store takes the next append at once, at the right position and version.
    auto next = store_->Append(Request(after % 3, 1, ++serial));
    ASSERT_TRUE(next.ok()) << "after " << after << ": " << next.status().ToString();
    EXPECT_EQ(next->events[0].position, static_cast<std::int64_t>(acknowledged.size()) + 1);
    acknowledged.push_back(next->events[0]);
  }
  // The fault landed at every write of the first commits, and past the end of the last ones.
  EXPECT_GT(failed, 0);
  EXPECT_GT(survived, 0);
  const std::vector<Event> events = OnDisk();
  ASSERT_EQ(events.size(), acknowledged.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].hash, acknowledged[i].hash) << "position " << i + 1;
    EXPECT_EQ(events[i].version, acknowledged[i].version) << "position " << i + 1;
  }
  // And after a restart, the same.
  store_.reset();
  store_ = Open();
  EXPECT_EQ(store_->HeadPosition(), static_cast<std::int64_t>(acknowledged.size()));
}

TEST_F(StorageFault, AFailedSyncIsAFailedAppendAndIsNotResurrectedByARestart) {
  ASSERT_TRUE(store_->Append(Request(1, 1, 1)).ok());
  FaultVfs::FailSyncs(SQLITE_IOERR_FSYNC);
  auto refused = store_->Append(Request(1, 2, 2));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kIOError) << refused.status().ToString();
  FaultVfs::Clear();
  EXPECT_EQ(store_->HeadPosition(), 1);
  auto next = store_->Append(Request(1, 1, 3));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->events[0].position, 2);
  EXPECT_EQ(next->events[0].version, 2);
  store_.reset();
  store_ = Open();
  const std::vector<Event> events = OnDisk();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].hash, next->events[0].hash);
}

TEST_F(StorageFault, FailingReadsAreErrorsNotEmptyAnswers) {
  ASSERT_TRUE(store_->Append(Request(1, 3, 1)).ok());
  FaultVfs::FailReads(SQLITE_IOERR_READ);
  // The read connections may have the pages cached; a fresh store has to read the file.
  auto reopened = [&] {
    eventstore::Options options;
    options.vfs_name = kFaultVfsName;
    return EventStore::OpenReadOnly(path_, options);
  }();
  if (reopened.ok()) {
    auto page = (*reopened)->Query({}, 10);
    EXPECT_FALSE(page.ok());
  } else {
    EXPECT_EQ(reopened.status().code(), Status::Code::kIOError) << reopened.status().ToString();
  }
  FaultVfs::Clear();
  auto page = store_->Query({}, 10);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->events.size(), 3u);
}

// Appenders on several threads while the disk fails on and off: each append's outcome is what
// disk says, and the store ends consistent.
TEST_F(StorageFault, ConcurrentAppendsWhileTheDiskFlapsAreAllOrNothing) {
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::map<std::string, std::vector<Event>> acknowledged;  // command id → events
  std::vector<std::string> refused;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        const std::string id = "c-" + std::to_string(t) + "-" + std::to_string(i);
        auto result = store_->Append(Request(t, 1 + i % 3, i, id));
        std::lock_guard lock(mutex);
        if (result.ok()) {
          acknowledged[id] = result->events;
        } else {
          refused.push_back(id);
        }
      }
    });
  }
  FaultVfs::Flap(30, std::chrono::milliseconds(10), 5);
  stop = true;
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(acknowledged.empty());
  EXPECT_FALSE(refused.empty()) << "no fault was hit";

  std::map<std::string, std::vector<Event>> on_disk;
  for (const Event& event : OnDisk()) on_disk[event.command_id].push_back(event);
  EXPECT_EQ(on_disk.size(), acknowledged.size());
  for (const auto& [id, events] : acknowledged) {
    ASSERT_EQ(on_disk[id].size(), events.size()) << id;
    for (std::size_t i = 0; i < events.size(); ++i) EXPECT_EQ(on_disk[id][i], events[i]) << id;
  }
  for (const std::string& id : refused) EXPECT_EQ(on_disk.count(id), 0u) << id;
  auto next = store_->Append(Request(9, 1, 0));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  std::size_t total = 0;
  for (const auto& [id, events] : acknowledged) total += events.size();
  EXPECT_EQ(next->events[0].position, static_cast<std::int64_t>(total) + 1);
}

}  // namespace
}  // namespace custody::hardening
