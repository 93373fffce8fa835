#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "eventstore/event_format.h"
#include "eventstore/event_store.h"
#include "tests/eventstore/test_util.h"

namespace custody::eventstore {
namespace {

using testing::AppendOne;
using testing::MakeEvent;
using testing::MakeRequest;
using testing::OpenStore;
using testing::TempDir;
using Outcome = AppendResult::Outcome;

TEST(EventStoreAppend, FirstEventStartsTheChain) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  ASSERT_NE(store, nullptr);
  Event event = MakeEvent("tenant.created", "op", "{\"tenant\":\"acme\"}");
  event.correlation_id = "corr-1";
  event.source = {"10.0.0.1", "curl/8", "tok_0123"};
  Result<AppendResult> result =
      store->Append(MakeRequest("acme", "acme/instance", {event}, "cmd-1"));
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->outcome, Outcome::kAppended);
  ASSERT_EQ(result->events.size(), 1u);
  const Event& stored = result->events[0];
  EXPECT_EQ(stored.position, 1);
  EXPECT_EQ(stored.version, 1);
  EXPECT_EQ(result->stream_version, 1);
  EXPECT_EQ(stored.prev_hash, kGenesisHash);
  EXPECT_EQ(stored.hash, ChainHash(kGenesisHash, stored));
  EXPECT_EQ(stored.format, kEventFormat);
  EXPECT_EQ(stored.stream, "acme/instance");
  EXPECT_EQ(stored.tenant, "acme");
  EXPECT_EQ(stored.command_id, "cmd-1");
  // UUIDv7: version nibble 7, variant bits 10.
  EXPECT_TRUE(testing::MatchesHexPattern(stored.id, "hhhhhhhh-hhhh-7hhh-hhhh-hhhhhhhhhhhh"))
      << stored.id;
  EXPECT_NE(std::string("89ab").find(stored.id[19]), std::string::npos) << stored.id;
  EXPECT_EQ(store->HeadPosition(), 1);

  // What is read back is exactly what the append returned.
  Result<std::vector<Event>> read = store->ReadStream("acme/instance");
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_EQ((*read)[0], stored);
}

TEST(EventStoreAppend, KeepsGivenIdAndChainsConsecutiveEvents) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  Event first = MakeEvent("a", "x");
  first.id = "given-id";
  Result<AppendResult> result = store->Append(
      MakeRequest("t", "t/instance", {first, MakeEvent("b", "x"), MakeEvent("c", "y")}));
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result->events.size(), 3u);
  EXPECT_EQ(result->events[0].id, "given-id");
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(result->events[i].position, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(result->events[i].version, static_cast<std::int64_t>(i + 1));
    if (i > 0) {
      EXPECT_EQ(result->events[i].prev_hash, result->events[i - 1].hash);
    }
  }
  EXPECT_EQ(result->stream_version, 3);
}

TEST(EventStoreAppend, RecordedAtNeverDecreasesWhenTheClockGoesBack) {
  TempDir dir;
  std::atomic<TimeMs> now{5000};
  Options options;
  options.clock = [&now] { return now.load(); };
  auto store = OpenStore(dir.File("log.db"), options);
  AppendOne(*store, "t", "t/s", MakeEvent("a", "x"));
  now = 1000;  // e.g. an NTP step backwards
  Result<AppendResult> second = store->Append(MakeRequest("t", "t/s", {MakeEvent("b", "x")}));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->events[0].recorded_at, 5000);
  now = 9000;
  Result<AppendResult> third = store->Append(MakeRequest("t", "t/s", {MakeEvent("c", "x")}));
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->events[0].recorded_at, 9000);
}

TEST(EventStoreAppend, VersionConflictReportsActualVersionAndWritesNothing) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  ASSERT_TRUE(store->Append(MakeRequest("t", "t/s", {MakeEvent("a", "x")}, "", 0)).ok());
  Result<AppendResult> stale = store->Append(MakeRequest("t", "t/s", {MakeEvent("b", "x")}, "", 0));
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale->outcome, Outcome::kVersionConflict);
  EXPECT_EQ(stale->stream_version, 1);
  EXPECT_TRUE(stale->events.empty());
  Result<AppendResult> fresh =
      store->Append(MakeRequest("t", "t/new", {MakeEvent("b", "x")}, "", 3));
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->outcome, Outcome::kVersionConflict);
  EXPECT_EQ(fresh->stream_version, 0);
  EXPECT_EQ(store->HeadPosition(), 1);
  EXPECT_EQ(*store->StreamVersion("t/new"), 0);
  Result<AppendResult> right = store->Append(MakeRequest("t", "t/s", {MakeEvent("b", "x")}, "", 1));
  ASSERT_TRUE(right.ok());
  EXPECT_EQ(right->outcome, Outcome::kAppended);
  EXPECT_EQ(right->stream_version, 2);
}

TEST(EventStoreAppend, DuplicateCommandIdReturnsFirstEventsAndWritesNothing) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  Result<AppendResult> first = store->Append(
      MakeRequest("acme", "acme/instance", {MakeEvent("a", "bob"), MakeEvent("b", "bob")}, "c-1"));
  ASSERT_TRUE(first.ok());
  Result<AppendResult> again =
      store->Append(MakeRequest("acme", "acme/instance", {MakeEvent("other", "eve")}, "c-1", 0));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, Outcome::kDuplicate);
  EXPECT_EQ(again->events, first->events);
  EXPECT_EQ(again->stream_version, 2);
  EXPECT_EQ(store->HeadPosition(), 2);

  // The same id in another tenant is another command.
  Result<AppendResult> other =
      store->Append(MakeRequest("globex", "globex/instance", {MakeEvent("a", "bob")}, "c-1"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->outcome, Outcome::kAppended);
  EXPECT_EQ(other->events[0].position, 3);

  Result<std::vector<Event>> found = store->FindByCommandId("acme", "c-1");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, first->events);
  Result<std::vector<Event>> none = store->FindByCommandId("acme", "c-2");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(EventStoreAppend, DuplicatesSurviveReopening) {
  TempDir dir;
  std::vector<Event> first;
  {
    auto store = OpenStore(dir.File("log.db"));
    first = store->Append(MakeRequest("t", "t/s", {MakeEvent("a", "x")}, "c")).value().events;
  }
  auto store = OpenStore(dir.File("log.db"));
  Result<AppendResult> again = store->Append(MakeRequest("t", "t/s", {MakeEvent("a", "x")}, "c"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, Outcome::kDuplicate);
  EXPECT_EQ(again->events, first);
  EXPECT_EQ(store->HeadPosition(), 1);
}

TEST(EventStoreAppend, RefusesMalformedRequests) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  auto code = [&](AppendRequest request) {
    Result<AppendResult> result = store->Append(std::move(request));
    return result.ok() ? Status::Code::kOk : result.status().code();
  };
  const auto kInvalid = Status::Code::kInvalidArgument;
  EXPECT_EQ(code(MakeRequest("t", "", {MakeEvent("a", "x")})), kInvalid);
  EXPECT_EQ(code(MakeRequest("t", "t/s", {})), kInvalid);
  EXPECT_EQ(code(MakeRequest("t", "t/s", {MakeEvent("", "x")})), kInvalid);
  EXPECT_EQ(code(MakeRequest("t", "t/s", {MakeEvent("a", "x", "[1]")})), kInvalid);
  EXPECT_EQ(code(MakeRequest("t", "t/s", {MakeEvent("a", "x", "{\"n\":1.5}")})), kInvalid);
  EXPECT_EQ(code(MakeRequest("t", "t/s", {MakeEvent("a", "x", "{bad")})), kInvalid);
  EXPECT_EQ(code(MakeRequest("t", "t/s", {MakeEvent("a", "\xff")})), kInvalid);
  Event other_tenant = MakeEvent("a", "x");
  other_tenant.tenant = "u";
  EXPECT_EQ(code(MakeRequest("t", "t/s", {other_tenant})), kInvalid);
  EXPECT_EQ(code(MakeRequest("t", "t/s", {MakeEvent("a", "x")}, "", -1)), kInvalid);
  EXPECT_EQ(store->HeadPosition(), 0);
  // A stream belongs to the tenant that created it.
  AppendOne(*store, "t", "t/s", MakeEvent("a", "x"));
  EXPECT_EQ(code(MakeRequest("u", "t/s", {MakeEvent("a", "x")})), kInvalid);
  EXPECT_EQ(store->HeadPosition(), 1);
}

TEST(EventStoreAppend, StoresDataInCanonicalForm) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  Result<AppendResult> result = store->Append(MakeRequest(
      "t", "t/s", {MakeEvent("a", "x", "{ \"b\": [1, {\"d\":2, \"c\":3}], \"a\": true }")}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->events[0].data, "{\"a\":true,\"b\":[1,{\"c\":3,\"d\":2}]}");
  Result<AppendResult> empty = store->Append(MakeRequest("t", "t/s", {MakeEvent("a", "x", "")}));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->events[0].data, "{}");
}

TEST(EventStoreAppend, LargePayloadRoundTrips) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  const std::string blob(1 << 20, 'z');
  const std::string data = "{\"blob\":\"" + blob + "\"}";
  const std::int64_t position = AppendOne(*store, "t", "t/s", MakeEvent("big", "x", data));
  AppendOne(*store, "t", "t/s", MakeEvent("after", "x"));
  Result<Page> page = store->Query(Filter{}, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 2u);
  EXPECT_EQ(page->events[0].position, position);
  EXPECT_EQ(page->events[0].data, data);
  Result<VerifyReport> report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST(EventStoreAppend, PositionsAndVersionsAreGaplessUnderConcurrency) {
  TempDir dir;
  Options options;
  options.synchronous_full = false;  // the ordering is the subject here, not fsync
  auto store = OpenStore(dir.File("log.db"), options);
  constexpr int kThreads = 16;
  constexpr int kAppends = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        // Half the appends share one stream, the rest go to the thread's own stream.
        const std::string stream = i % 2 == 0 ? "t/shared" : "t/own-" + std::to_string(t);
        std::vector<Event> events{MakeEvent("e", "x", "{\"t\":" + std::to_string(t) + "}")};
        if (i % 5 == 0) events.push_back(MakeEvent("e2", "x"));
        Result<AppendResult> result = store->Append(MakeRequest("t", stream, std::move(events)));
        if (!result.ok() || result->outcome != Outcome::kAppended) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, 0);

  std::int64_t expected = 0;
  std::map<std::string, std::int64_t> versions;
  Status scanned = store->Scan(Filter{}, [&](const Event& e) {
    EXPECT_EQ(e.position, ++expected);
    EXPECT_EQ(e.version, ++versions[e.stream]) << e.stream;
    return true;
  });
  ASSERT_TRUE(scanned.ok());
  const std::int64_t total = kThreads * kAppends + kThreads * kAppends / 5;
  EXPECT_EQ(expected, total);
  EXPECT_EQ(store->HeadPosition(), total);
  // Per thread: 100 appends to each stream, 20 of which carry a second event.
  EXPECT_EQ(versions["t/shared"], kThreads * 120);
  EXPECT_EQ(versions["t/own-3"], 120);
  EXPECT_EQ(*store->StreamVersion("t/shared"), kThreads * 120);
  Result<VerifyReport> report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events, total);
}

TEST(EventStoreAppend, ExactlyOneRacerWinsEachExpectedVersion) {
  TempDir dir;
  Options options;
  options.synchronous_full = false;
  auto store = OpenStore(dir.File("log.db"), options);
  constexpr int kThreads = 8;
  constexpr int kRounds = 25;
  std::barrier sync(kThreads);
  std::mutex mutex;
  std::map<std::int64_t, int> winners;  // expected version → appends that won it
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < kRounds; ++round) {
        sync.arrive_and_wait();
        Result<AppendResult> result =
            store->Append(MakeRequest("t", "t/race", {MakeEvent("e", "x")}, "", round));
        sync.arrive_and_wait();  // every racer has tried before the next round
        if (!result.ok()) {
          ADD_FAILURE() << result.status().ToString();
        } else if (result->outcome == Outcome::kAppended) {
          std::lock_guard lock(mutex);
          ++winners[round];
          EXPECT_EQ(result->stream_version, round + 1);
        } else {
          EXPECT_EQ(result->outcome, Outcome::kVersionConflict);
          EXPECT_EQ(result->stream_version, round + 1);
          ++conflicts;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(winners.size(), static_cast<std::size_t>(kRounds));
  for (const auto& [version, count] : winners) EXPECT_EQ(count, 1) << "version " << version;
  EXPECT_EQ(conflicts, kRounds * (kThreads - 1));
  EXPECT_EQ(*store->StreamVersion("t/race"), kRounds);
}

TEST(EventStoreAppend, GroupCommitBatchesConcurrentAppends) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));  // synchronous=FULL: commits take a while
  std::mutex mutex;
  std::vector<std::size_t> batches;
  std::vector<std::int64_t> seen;
  store->Subscribe([&](const std::vector<Event>& events) {
    std::lock_guard lock(mutex);
    batches.push_back(events.size());
    for (const Event& e : events) seen.push_back(e.position);
  });
  constexpr int kThreads = 64;
  constexpr int kAppends = 4;
  std::barrier start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kAppends; ++i) AppendOne(*store, "t", "t/s", MakeEvent("e", "x"));
    });
  }
  for (auto& thread : threads) thread.join();
  std::lock_guard lock(mutex);
  EXPECT_LT(batches.size(), static_cast<std::size_t>(kThreads * kAppends));
  EXPECT_GT(*std::max_element(batches.begin(), batches.end()), 1u);
  // Listeners see every committed event once, in position order.
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kAppends));
  for (std::size_t i = 0; i < seen.size(); ++i)
    EXPECT_EQ(seen[i], static_cast<std::int64_t>(i + 1));
}

TEST(EventStoreAppend, SameCommandInOneBatchIsWrittenOnce) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  constexpr int kThreads = 32;
  std::barrier start(kThreads);
  std::atomic<int> appended{0};
  std::atomic<int> duplicates{0};
  std::vector<std::vector<Event>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      Result<AppendResult> result =
          store->Append(MakeRequest("t", "t/s", {MakeEvent("e", "x")}, "same"));
      ASSERT_TRUE(result.ok());
      if (result->outcome == Outcome::kAppended) ++appended;
      if (result->outcome == Outcome::kDuplicate) ++duplicates;
      results[t] = result->events;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(appended, 1);
  EXPECT_EQ(duplicates, kThreads - 1);
  EXPECT_EQ(store->HeadPosition(), 1);
  for (const auto& events : results) EXPECT_EQ(events, results[0]);
}

TEST(EventStoreAppend, FailedCommitAcknowledgesNobodyAndReloadsState) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  auto store = OpenStore(path);
  std::vector<std::size_t> heard;
  store->Subscribe([&](const std::vector<Event>& events) { heard.push_back(events.size()); });
  AppendOne(*store, "t", "t/s", MakeEvent("a", "x"));
  {
    // Another writer takes position 2 behind the store's back: the store's next insert at
    // its cached head + 1 then fails inside its transaction.
    testing::RawDb raw(path);
    std::string error;
    ASSERT_EQ(raw.Exec("INSERT INTO events SELECT 2, stream_id, 2, recorded_at, occurred_at, "
                       "format, hash, hash, 'foreign', type, tenant, actor, subject, '', '', "
                       "'', '', data, '' FROM events WHERE position = 1",
                       &error),
              SQLITE_OK)
        << error;
  }
  Result<AppendResult> failed =
      store->Append(MakeRequest("t", "t/other", {MakeEvent("b", "x")}, "cmd-b"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Status::Code::kConflict) << failed.status().ToString();
  EXPECT_EQ(heard.size(), 1u) << "listeners hear only committed events";
  // Nothing of the failed request is visible: not its stream, not its command id.
  EXPECT_EQ(*store->StreamVersion("t/other"), 0);
  EXPECT_TRUE(store->FindByCommandId("t", "cmd-b")->empty());
  // The writer reread the head and the stream versions from disk.
  EXPECT_EQ(store->HeadPosition(), 2);
  Result<AppendResult> next = store->Append(MakeRequest("t", "t/s", {MakeEvent("c", "x")}, "", 2));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  ASSERT_EQ(next->outcome, Outcome::kAppended);
  EXPECT_EQ(next->events[0].position, 3);
  EXPECT_EQ(next->events[0].version, 3);
  EXPECT_EQ(next->events[0].prev_hash, store->ReadStream("t/s")->at(0).hash);
  Result<AppendResult> retried =
      store->Append(MakeRequest("t", "t/other", {MakeEvent("b", "x")}, "cmd-b"));
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->outcome, Outcome::kAppended);
  EXPECT_EQ(retried->events[0].position, 4);
}

TEST(EventStoreAppend, UnsubscribedListenerIsNotCalled) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  int calls = 0;
  const int id = store->Subscribe([&](const std::vector<Event>&) { ++calls; });
  AppendOne(*store, "t", "t/s", MakeEvent("a", "x"));
  store->Unsubscribe(id);
  AppendOne(*store, "t", "t/s", MakeEvent("b", "x"));
  EXPECT_EQ(calls, 1);
}

TEST(EventStoreAppend, ThrowingListenerDoesNotStopTheWriter) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  store->Subscribe([](const std::vector<Event>&) { throw std::runtime_error("listener bug"); });
  EXPECT_EQ(AppendOne(*store, "t", "t/s", MakeEvent("a", "x")), 1);
  EXPECT_EQ(AppendOne(*store, "t", "t/s", MakeEvent("b", "x")), 2);
}

TEST(EventStoreAppend, AsyncAppendAnswersOnTheWriterAfterTheListeners) {
  // Declared before the store: callbacks still queued when an assertion fails use them.
  std::mutex mutex;
  std::condition_variable answered;
  std::vector<std::int64_t> heard;  // positions the listener saw, then -position per answer
  std::thread::id listener_thread;
  std::set<std::thread::id> answer_threads;
  std::vector<Result<AppendResult>> results;
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  store->Subscribe([&](const std::vector<Event>& events) {
    std::lock_guard lock(mutex);
    listener_thread = std::this_thread::get_id();
    for (const Event& event : events) heard.push_back(event.position);
  });
  constexpr int kAppends = 20;
  for (int i = 0; i < kAppends; ++i) {
    const Status queued =
        store->AppendAsync(MakeRequest("t", "t/s" + std::to_string(i % 3), {MakeEvent("a", "x")}),
                           [&](Result<AppendResult> result) {
                             std::lock_guard lock(mutex);
                             answer_threads.insert(std::this_thread::get_id());
                             if (result.ok()) heard.push_back(-result->events.back().position);
                             results.push_back(std::move(result));
                             answered.notify_all();
                           });
    ASSERT_TRUE(queued.ok()) << queued.ToString();
  }
  std::unique_lock lock(mutex);
  ASSERT_TRUE(answered.wait_for(lock, std::chrono::seconds(30),
                                [&] { return results.size() == kAppends; }));
  // Every answer on the listeners' thread: the writer's.
  EXPECT_EQ(answer_threads, std::set<std::thread::id>{listener_thread});
  EXPECT_NE(listener_thread, std::this_thread::get_id());
  std::set<std::int64_t> positions;
  for (const auto& result : results) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->outcome, Outcome::kAppended);
    positions.insert(result->events.back().position);
  }
  EXPECT_EQ(positions.size(), static_cast<std::size_t>(kAppends));
  EXPECT_EQ(*positions.rbegin(), kAppends);
  // Each answer comes after the listeners saw its event.
  for (std::size_t i = 0; i < heard.size(); ++i) {
    if (heard[i] > 0) continue;
    EXPECT_NE(std::find(heard.begin(), heard.begin() + i, -heard[i]), heard.begin() + i)
        << "answered position " << -heard[i] << " before the listeners saw it";
  }
}

TEST(EventStoreAppend, AsyncAppendRefusedBeforeQueueingNeverCallsBack) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  bool called = false;
  const Status refused =
      store->AppendAsync(MakeRequest("t", "t/s", {}), [&](Result<AppendResult>) { called = true; });
  EXPECT_EQ(refused.code(), Status::Code::kInvalidArgument);
  store->Drain();
  EXPECT_FALSE(called);
  EXPECT_EQ(store->HeadPosition(), 0);
}

TEST(EventStoreAppend, DrainWaitsForQueuedAppendsAndTheirAnswers) {
  std::atomic<int> answers = 0;  // before the store, which may still call back as it closes
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  constexpr int kAppends = 50;
  for (int i = 0; i < kAppends; ++i) {
    ASSERT_TRUE(store
                    ->AppendAsync(MakeRequest("t", "t/s", {MakeEvent("a", "x")}),
                                  [&](Result<AppendResult> result) {
                                    EXPECT_TRUE(result.ok());
                                    ++answers;
                                  })
                    .ok());
  }
  store->Drain();
  EXPECT_EQ(answers.load(), kAppends);
  EXPECT_EQ(store->HeadPosition(), kAppends);
}

}  // namespace
}  // namespace custody::eventstore
