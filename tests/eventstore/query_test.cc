#include <atomic>
#include <set>

#include <gtest/gtest.h>

#include "eventstore/event_store.h"
#include "tests/eventstore/test_util.h"

namespace custody::eventstore {
namespace {

using testing::MakeEvent;
using testing::MakeRequest;
using testing::OpenStore;
using testing::TempDir;

constexpr TimeMs kT0 = 1795255200000;  // 2026-11-21T10:00:00.000Z

// 30 events in two tenants; event i (position i + 1) has:
//   tenant acme when i % 3 != 0, else globex; stream {tenant}/instance or, when i % 2,
//   {tenant}/onboarding/{actor}; type "even"/"odd"; actor alice/bob/carol by i % 3 (so the
//   tenant globex is carol's); subject dave when i % 5 == 0; occurred_at kT0 + i minutes;
//   recorded_at 1000 * (i + 1).
class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Options options;
    options.synchronous_full = false;
    options.clock = [this] { return now_.load(); };
    store_ = OpenStore(dir_.File("log.db"), options);
    ASSERT_NE(store_, nullptr);
    const char* actors[] = {"carol", "alice", "bob"};
    for (int i = 0; i < kEvents; ++i) {
      const std::string tenant = i % 3 != 0 ? "acme" : "globex";
      const std::string actor = actors[i % 3];
      const std::string stream =
          i % 2 == 0 ? tenant + "/instance" : tenant + "/onboarding/" + actor;
      Event event =
          MakeEvent(i % 2 == 0 ? "even" : "odd", actor, "{\"i\":" + std::to_string(i) + "}");
      event.subject = i % 5 == 0 ? "dave" : "";
      event.occurred_at = kT0 + i * 60000;
      now_ = 1000 * (i + 1);
      ASSERT_TRUE(store_->Append(MakeRequest(tenant, stream, {event})).ok());
    }
  }

  // Positions matching `filter`, through pages of `limit`, checking the cursor.
  std::vector<std::int64_t> AllPages(Filter filter, std::size_t limit) {
    std::vector<std::int64_t> positions;
    for (int pages = 0; pages < 100; ++pages) {
      Result<Page> page = store_->Query(filter, limit);
      EXPECT_TRUE(page.ok()) << page.status().ToString();
      if (!page.ok()) break;
      EXPECT_LE(page->events.size(), limit);
      for (const Event& e : page->events) positions.push_back(e.position);
      if (!page->next_after) break;
      EXPECT_EQ(*page->next_after, page->events.back().position);
      filter.after_position = *page->next_after;
    }
    return positions;
  }

  // Positions whose index i = position - 1 satisfies `keep`.
  static std::vector<std::int64_t> Where(const std::function<bool(int)>& keep) {
    std::vector<std::int64_t> positions;
    for (int i = 0; i < kEvents; ++i) {
      if (keep(i)) positions.push_back(i + 1);
    }
    return positions;
  }

  static constexpr int kEvents = 30;
  TempDir dir_;
  std::atomic<TimeMs> now_{0};
  std::unique_ptr<EventStore> store_;
};

TEST_F(QueryTest, EachFilterNarrowsTheHistory) {
  Filter tenant;
  tenant.tenant = "globex";
  EXPECT_EQ(AllPages(tenant, 100), Where([](int i) { return i % 3 == 0; }));
  Filter stream;
  stream.stream = "acme/instance";
  EXPECT_EQ(AllPages(stream, 100), Where([](int i) { return i % 3 != 0 && i % 2 == 0; }));
  Filter type;
  type.type = "odd";
  EXPECT_EQ(AllPages(type, 100), Where([](int i) { return i % 2 == 1; }));
  Filter actor;
  actor.actor = "bob";
  EXPECT_EQ(AllPages(actor, 100), Where([](int i) { return i % 3 == 2; }));
  Filter subject;
  subject.subject = "dave";
  EXPECT_EQ(AllPages(subject, 100), Where([](int i) { return i % 5 == 0; }));
  Filter time;
  time.since = kT0 + 10 * 60000;
  time.until = kT0 + 20 * 60000;
  EXPECT_EQ(AllPages(time, 100), Where([](int i) { return i >= 10 && i < 20; }));
  Filter positions;
  positions.after_position = 5;
  positions.until_position = 9;
  EXPECT_EQ(AllPages(positions, 100), Where([](int i) { return i >= 5 && i < 9; }));
  Filter combined;
  combined.tenant = "acme";
  combined.type = "even";
  combined.actor = "alice";
  EXPECT_EQ(AllPages(combined, 100), Where([](int i) { return i % 3 == 1 && i % 2 == 0; }));
  Filter nothing;
  nothing.actor = "nobody";
  EXPECT_TRUE(AllPages(nothing, 100).empty());
  Filter unknown_stream;
  unknown_stream.stream = "acme/none";
  EXPECT_TRUE(AllPages(unknown_stream, 100).empty());
}

TEST_F(QueryTest, CursorPagesCoverEveryEventExactlyOnce) {
  for (std::size_t limit : {1u, 7u, 10u, 29u, 30u, 31u}) {
    EXPECT_EQ(AllPages(Filter{}, limit), Where([](int) { return true; })) << "limit " << limit;
    Filter acme;
    acme.tenant = "acme";
    EXPECT_EQ(AllPages(acme, limit), Where([](int i) { return i % 3 != 0; })) << limit;
  }
}

TEST_F(QueryTest, LastPageHasNoCursor) {
  Result<Page> all = store_->Query(Filter{}, kEvents);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->events.size(), static_cast<std::size_t>(kEvents));
  EXPECT_FALSE(all->next_after.has_value());
  Result<Page> first = store_->Query(Filter{}, 10);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->next_after, 10);
  EXPECT_EQ(store_->Query(Filter{}, 0).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(QueryTest, ScanVisitsMatchesInOrderAndStopsWhenAsked) {
  Filter acme;
  acme.tenant = "acme";
  std::vector<std::int64_t> visited;
  ASSERT_TRUE(store_
                  ->Scan(acme,
                         [&](const Event& e) {
                           visited.push_back(e.position);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(visited, Where([](int i) { return i % 3 != 0; }));
  visited.clear();
  ASSERT_TRUE(store_
                  ->Scan(Filter{},
                         [&](const Event& e) {
                           visited.push_back(e.position);
                           return visited.size() < 4;
                         })
                  .ok());
  EXPECT_EQ(visited, (std::vector<std::int64_t>{1, 2, 3, 4}));
}

TEST_F(QueryTest, ScanCallbackMayUseTheStore) {
  int visits = 0;
  ASSERT_TRUE(store_
                  ->Scan(Filter{},
                         [&](const Event& e) {
                           ++visits;
                           Result<std::vector<Event>> stream = store_->ReadStream(e.stream);
                           EXPECT_TRUE(stream.ok());
                           return true;
                         })
                  .ok());
  EXPECT_EQ(visits, kEvents);
}

TEST_F(QueryTest, ReadStreamReturnsVersionsAfterTheGivenOne) {
  Result<std::vector<Event>> all = store_->ReadStream("acme/onboarding/alice");
  ASSERT_TRUE(all.ok());
  const std::vector<std::int64_t> expected = Where([](int i) { return i % 2 == 1 && i % 3 == 1; });
  ASSERT_EQ(all->size(), expected.size());
  for (std::size_t k = 0; k < all->size(); ++k) {
    EXPECT_EQ((*all)[k].position, expected[k]);
    EXPECT_EQ((*all)[k].version, static_cast<std::int64_t>(k + 1));
  }
  Result<std::vector<Event>> tail = store_->ReadStream("acme/onboarding/alice", 3);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), expected.size() - 3);
  EXPECT_EQ(tail->front().version, 4);
  EXPECT_TRUE(store_->ReadStream("no/such/stream")->empty());
  EXPECT_EQ(*store_->StreamVersion("acme/onboarding/alice"),
            static_cast<std::int64_t>(expected.size()));
  EXPECT_EQ(*store_->StreamVersion("no/such/stream"), 0);
}

TEST_F(QueryTest, PositionAtFindsTheLastEventRecordedByThen) {
  EXPECT_EQ(*store_->PositionAt(0), 0);
  EXPECT_EQ(*store_->PositionAt(999), 0);
  EXPECT_EQ(*store_->PositionAt(1000), 1);
  EXPECT_EQ(*store_->PositionAt(1500), 1);
  EXPECT_EQ(*store_->PositionAt(17000), 17);
  EXPECT_EQ(*store_->PositionAt(30000), 30);
  EXPECT_EQ(*store_->PositionAt(1'000'000'000), 30);
}

TEST(EventStoreQuery, PositionAtHandlesEqualRecordedTimes) {
  TempDir dir;
  Options options;
  options.clock = [] { return TimeMs{7}; };
  auto store = OpenStore(dir.File("log.db"), options);
  for (int i = 0; i < 5; ++i) testing::AppendOne(*store, "t", "t/s", MakeEvent("e", "x"));
  EXPECT_EQ(*store->PositionAt(6), 0);
  EXPECT_EQ(*store->PositionAt(7), 5);
}

TEST(EventStoreSnapshot, SaveLoadAndReplace) {
  TempDir dir;
  auto store = OpenStore(dir.File("log.db"));
  Result<std::optional<Snapshot>> none = store->LoadSnapshot("marketo");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  const std::string blob("bin\0ary", 7);
  ASSERT_TRUE(store->SaveSnapshot({"marketo", 1, 10, blob}).ok());
  Result<std::optional<Snapshot>> first = store->LoadSnapshot("marketo");
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->code_version, 1);
  EXPECT_EQ((*first)->position, 10);
  EXPECT_EQ((*first)->blob, blob);
  ASSERT_TRUE(store->SaveSnapshot({"marketo", 2, 20, "new"}).ok());
  ASSERT_TRUE(store->SaveSnapshot({"onboarding", 1, 5, "other"}).ok());
  Result<std::optional<Snapshot>> second = store->LoadSnapshot("marketo");
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->code_version, 2);
  EXPECT_EQ((*second)->position, 20);
  EXPECT_EQ((*second)->blob, "new");
  EXPECT_EQ((*store->LoadSnapshot("onboarding"))->blob, "other");
}

}  // namespace
}  // namespace custody::eventstore
