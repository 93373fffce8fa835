// History: pages, exports (NDJSON, CSV) and the live tail (Server-Sent Events).

#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>

#include "domain/events.h"
#include "eventstore/event_format.h"
#include "tests/server/fixture.h"

namespace custody::servertest {
namespace {

using Strings = std::vector<std::string>;

class History : public ServerTest {
 protected:
  // Appends `count` invitations to acme in one atomic append (fast: one transaction).
  void AppendInvitations(int count) {
    eventstore::AppendRequest request;
    request.stream = InstanceStream("acme");
    request.tenant = "acme";
    for (int i = 0; i < count; ++i) {
      const std::string member = "bulk" + std::to_string(i);
      Event event;
      event.stream = request.stream;
      event.type = events::MemberInvited::kType;
      event.tenant = "acme";
      event.actor = "alice";
      event.subject = member;
      event.occurred_at = 1'800'000'000'000;
      event.data = events::EncodeData(events::MemberInvited{member, member + "@acme.test", "user"});
      request.events.push_back(std::move(event));
    }
    auto appended = app_->store->Append(std::move(request));
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  }
};

TEST_F(History, PagesWithNextAfterCoverEveryEventOnce) {
  SeedAcme();
  ASSERT_EQ(CreateTenant("globex", "gina").status, 201);
  for (int i = 0; i < 5; ++i)
    ASSERT_EQ(Invite("acme", "alice", "u" + std::to_string(i), "user").status, 201);
  const std::int64_t head = Head();
  std::vector<std::int64_t> seen;
  std::string cursor = "0";
  int pages = 0;
  while (true) {
    const HttpResponse page = Get("/v1/events?limit=3&after=" + cursor, operator_);
    ASSERT_EQ(page.status, 200) << page.body;
    ++pages;
    for (const auto& event : json::array(page.Json().at("events").as_array())) {
      seen.push_back(event.at("position").to_number<std::int64_t>());
    }
    const json::value next = page.Json().at("next_after");
    if (next.is_null()) break;
    cursor = std::to_string(next.to_number<std::int64_t>());
    ASSERT_LT(pages, 100);
  }
  ASSERT_EQ(static_cast<std::int64_t>(seen.size()), head);
  for (std::int64_t i = 0; i < head; ++i) EXPECT_EQ(seen[i], i + 1);
  EXPECT_GE(pages, 4);

  // Filters narrow the page; the default limit is 100.
  const HttpResponse invites =
      Get("/v1/events?tenant=acme&type=member.invited&actor=alice", reviewer_);
  ASSERT_EQ(invites.status, 200);
  for (const auto& event : json::array(invites.Json().at("events").as_array())) {
    EXPECT_EQ(Str(event, "type"), "member.invited");
  }
  EXPECT_GE(invites.Json().at("events").as_array().size(), 7u);
  const HttpResponse about_bob = Get("/v1/events?subject=bob", reviewer_);
  ASSERT_EQ(about_bob.Json().at("events").as_array().size(), 1u);
  const HttpResponse future = Get("/v1/events?since=2100-01-01T00:00:00Z", operator_);
  EXPECT_TRUE(future.Json().at("events").as_array().empty());
  EXPECT_TRUE(future.Json().at("next_after").is_null());
}

TEST_F(History, NdjsonExportStreamsEveryEventInOrder) {
  SeedAcme();
  AppendInvitations(1200);  // more than two pages of the export
  const std::int64_t head = Head();
  const HttpResponse exported =
      Get("/v1/events", reviewer_all_, {{"Accept", "application/x-ndjson"}});
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(exported.Header("Content-Type"), "application/x-ndjson");
  EXPECT_EQ(exported.Header("Transfer-Encoding"), "chunked");
  std::istringstream lines(exported.body);
  std::string line;
  std::int64_t expected = 1;
  while (std::getline(lines, line)) {
    auto event = eventstore::EventFromJson(line);
    ASSERT_TRUE(event.ok()) << event.status().ToString() << ": " << line;
    EXPECT_EQ(event->position, expected++);
  }
  EXPECT_EQ(expected - 1, head);
}

TEST_F(History, CsvExportHasAHeaderRowAndOneRowPerEvent) {
  SeedAcme();
  ASSERT_EQ(Act("connect_marketo", "alice").status, 201);
  const std::int64_t head = Head();
  const HttpResponse exported =
      Get("/v1/events?tenant=acme", operator_, {{"Accept", "text/csv, application/json;q=0.5"}});
  ASSERT_EQ(exported.status, 200);
  EXPECT_EQ(exported.Header("Content-Type"), "text/csv; charset=utf-8");
  ASSERT_EQ(exported.body.rfind(eventstore::EventCsvHeader(), 0), 0u);
  std::size_t rows = 0;
  for (std::size_t at = 0; (at = exported.body.find("\r\n", at)) != std::string::npos; at += 2) {
    ++rows;
  }
  EXPECT_EQ(static_cast<std::int64_t>(rows), head + 1);
  EXPECT_NE(exported.body.find("marketo.connected"), std::string::npos);
  // The connection stays usable after a streamed answer.
  Connection connection(port_);
  const HttpResponse first = connection.Request(
      "GET", "/v1/events", {{"Authorization", "Bearer " + operator_}, {"Accept", "text/csv"}});
  EXPECT_EQ(first.body, exported.body);
  EXPECT_EQ(connection.Request("GET", "/healthz").status, 200);
}

TEST_F(History, AcceptWeighsThePageAndTheTwoExports) {
  SeedAcme();
  const std::string json = Get("/v1/events", operator_).Header("Content-Type");
  ASSERT_NE(json.find("application/json"), std::string::npos) << json;
  const std::string csv = "text/csv; charset=utf-8", ndjson = "application/x-ndjson";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"text/csv;q=0", json},  // refused, and nothing else named: the page
      {"application/json, text/csv;q=0.1", json},
      {"application/x-ndjson;q=0.1, application/json;q=0.9", json},
      {"text/csv;q=0.5, application/x-ndjson;q=0.8", ndjson},
      {"application/x-ndjson, */*", ndjson},  // named beats a wildcard at equal weight
      {"*/*;q=0.5, text/csv", csv},
      {"text/csv, application/x-ndjson", csv},  // equal: the first listed
      {"application/json, text/csv", json},
      {"TEXT/CSV ; Q=1", csv},
      {"text/csv;q=abc", csv},  // a malformed weight counts as 1
      {"image/png", json},
  };
  for (const auto& [accept, expected] : cases) {
    const HttpResponse answer = Get("/v1/events", operator_, {{"Accept", accept}});
    EXPECT_EQ(answer.status, 200) << accept;
    EXPECT_EQ(answer.Header("Content-Type"), expected) << accept;
    // One URL, several representations: caches must key on Accept.
    EXPECT_EQ(answer.Header("Vary"), "Accept") << accept;
  }
}

TEST_F(History, AnExportRefusesALimit) {
  SeedAcme();
  const HttpResponse answer =
      Get("/v1/events?limit=2", operator_, {{"Accept", "application/x-ndjson"}});
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.Header("Content-Type"), "application/problem+json");
  EXPECT_NE(answer.body.find("'limit' pages the JSON history"), std::string::npos) << answer.body;
}

TEST_F(History, LiveTailReceivesNewEventsAndResumesWithoutGapsOrDuplicates) {
  SeedAcme();
  SseClient live(port_, "/v1/events/live?tenant=acme", reviewer_);
  ASSERT_EQ(live.status(), 200) << live.header().body;
  EXPECT_EQ(live.header().Header("Content-Type"), "text/event-stream");
  const HttpResponse connected = Act("connect_marketo", "alice");
  ASSERT_EQ(connected.status, 201);
  const auto event = live.Next(std::chrono::seconds(10));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->event, "marketo.connected");
  const std::int64_t position = connected.Json().at("position").to_number<std::int64_t>();
  EXPECT_EQ(event->id, std::to_string(position));
  auto served = eventstore::EventFromJson(event->data);
  ASSERT_TRUE(served.ok()) << event->data;
  EXPECT_EQ(served->actor, "alice");
  EXPECT_FALSE(live.Next(std::chrono::milliseconds(200)).has_value());

  // Missed while away: two events. Resuming gets exactly those.
  ASSERT_EQ(Act("grant_marketo_access", "alice", "carol").status, 201);
  ASSERT_EQ(Act("grant_marketo_access", "alice", "bob").status, 201);
  SseClient resumed(port_, "/v1/events/live?tenant=acme", reviewer_, event->id);
  ASSERT_EQ(resumed.status(), 200);
  Strings ids;
  while (auto next = resumed.Next(std::chrono::milliseconds(500))) ids.push_back(next->id);
  EXPECT_EQ(ids, (Strings{std::to_string(position + 1), std::to_string(position + 2)}));
  // And then what happens next, once.
  ASSERT_EQ(Act("revoke_marketo_access", "alice", "bob").status, 201);
  const auto after = resumed.Next(std::chrono::seconds(10));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->id, std::to_string(position + 3));
  EXPECT_EQ(after->event, "marketo.access_revoked");
}

// "Who was cut off" is a question about the members in an integration_down's cut_off, not
// only its subject (the last admin): the subject filter finds it for them, paged and live.
TEST_F(History, TheSubjectFilterFindsTheMembersAnIntegrationDownCutOff) {
  SeedAcme();
  ASSERT_EQ(Act("connect_marketo", "alice").status, 201);
  ASSERT_EQ(Act("grant_marketo_access", "alice", "carol").status, 201);
  SseClient live(port_, "/v1/events/live?subject=carol", reviewer_);
  ASSERT_EQ(live.status(), 200);
  const HttpResponse down = Act("disconnect_marketo", "alice");
  ASSERT_EQ(down.status, 201) << down.body;
  ASSERT_EQ(Types(down.Json()), (Strings{"marketo.disconnected", "marketo.integration_down"}));

  const HttpResponse carol = Get("/v1/events?subject=carol", reviewer_);
  ASSERT_EQ(carol.status, 200);
  const json::value carols = carol.Json();
  Strings types;
  for (const auto& event : carols.at("events").as_array()) types.push_back(Str(event, "type"));
  EXPECT_EQ(types,
            (Strings{"member.invited", "marketo.access_granted", "marketo.integration_down"}));
  // Page by page, the same events, each once.
  Strings paged;
  std::string after = "0";
  for (int page = 0; page < 5 && !after.empty(); ++page) {
    const json::value one =
        Get("/v1/events?subject=carol&limit=1&after=" + after, reviewer_).Json();
    for (const auto& event : one.at("events").as_array()) paged.push_back(Str(event, "type"));
    after = one.at("next_after").is_null()
                ? ""
                : std::to_string(one.at("next_after").to_number<std::int64_t>());
  }
  EXPECT_EQ(paged, types);
  // Still only what is about her: bob held nothing and was not cut off.
  const json::value bobs = Get("/v1/events?subject=bob", reviewer_).Json();
  ASSERT_FALSE(bobs.at("events").as_array().empty());
  for (const auto& event : bobs.at("events").as_array()) {
    EXPECT_NE(Str(event, "type"), "marketo.integration_down");
  }
  const auto heard = live.Next(std::chrono::seconds(10));
  ASSERT_TRUE(heard.has_value());
  EXPECT_EQ(heard->event, "marketo.integration_down");
}

TEST_F(History, LiveTailCatchesUpWhileCommandsRaceIt) {
  SeedAcme();
  std::thread writer([&] {
    for (int i = 0; i < 30; ++i) Invite("acme", "alice", "r" + std::to_string(i), "user");
  });
  SseClient live(port_, "/v1/events/live?after=0&type=member.invited", reviewer_all_);
  ASSERT_EQ(live.status(), 200);
  writer.join();
  std::vector<std::int64_t> positions;
  while (auto event = live.Next(std::chrono::milliseconds(700))) {
    EXPECT_EQ(event->event, "member.invited");
    positions.push_back(std::stoll(event->id));
  }
  // alice's own invitation (if the tenant's creation records one), bob, carol and 30 more.
  EXPECT_GE(positions.size(), 32u);
  EXPECT_TRUE(std::is_sorted(positions.begin(), positions.end()));
  EXPECT_EQ(std::set<std::int64_t>(positions.begin(), positions.end()).size(), positions.size());
  const HttpResponse all = Get("/v1/events?type=member.invited&limit=1000", operator_);
  EXPECT_EQ(all.Json().at("events").as_array().size(), positions.size());
}

TEST_F(History, LiveTailRefusesABadLastEventId) {
  SseClient live(port_, "/v1/events/live", reviewer_, "abc");
  EXPECT_EQ(live.status(), 400);
  // Two Last-Event-ID fields are no position either.
  Connection connection(port_);
  ASSERT_TRUE(
      connection.WriteRaw("GET /v1/events/live HTTP/1.1\r\nHost: x\r\nAuthorization: "
                          "Bearer " +
                          reviewer_ + "\r\nLast-Event-ID: 0\r\nLast-Event-ID: 1\r\n\r\n"));
  const HttpResponse twice = connection.Read();
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(Str(twice.Json(), "field"), "Last-Event-ID");
}

TEST_F(History, LiveTailRefusesALastEventIdPastTheHead) {
  SeedAcme();
  const std::int64_t head = Head();
  SseClient beyond(port_, "/v1/events/live", reviewer_, std::to_string(head + 1));
  EXPECT_EQ(beyond.status(), 400);
  EXPECT_NE(beyond.header().body.find("past the head of the log (" + std::to_string(head) + ")"),
            std::string::npos)
      << beyond.header().body;
  SseClient at_head(port_, "/v1/events/live", reviewer_, std::to_string(head));
  EXPECT_EQ(at_head.status(), 200);
}

}  // namespace
}  // namespace custody::servertest
