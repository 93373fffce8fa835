// The service on a failing disk, through HTTP: commands are answered 503 storage_unavailable
// and write nothing, reads keep working, and once the disk recovers the next command succeeds
// with memory (projections) equal to a rebuild from disk.

#include <sqlite3.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "projections/projections.h"
#include "tests/hardening/fault_vfs.h"
#include "tests/server/fixture.h"

namespace custody::hardening {
namespace {

namespace json = boost::json;
using servertest::HttpResponse;
using servertest::Str;

class FailingDisk : public servertest::ServerTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(FaultVfs::Register());
    FaultVfs::Clear();
    OpenFaultyApp();
    operator_ = AddToken("operator", "");
    writer_ = AddToken("writer", "acme");
    StartServer();
    SeedAcme();
  }
  void TearDown() override {
    FaultVfs::Clear();
    ServerTest::TearDown();
  }

  void OpenFaultyApp() {
    eventstore::Options options;
    options.vfs_name = kFaultVfsName;
    auto app = server::App::Open(db_.File("custody.db"), options);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
  }

  // Memory never drifts from disk: the live projections equal a rebuild from the log.
  void ExpectProjectionsMatchDisk() {
    auto rebuilt = projections::Rebuild(*app_->store, "", std::nullopt);
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
    EXPECT_TRUE(app_->projections->Copy() == *rebuilt);
    EXPECT_EQ(app_->projections->Position(), app_->store->HeadPosition());
    const HttpResponse integrity = Get("/v1/integrity", operator_);
    ASSERT_EQ(integrity.status, 200) << integrity.body;
    EXPECT_TRUE(integrity.Json().at("ok").as_bool()) << integrity.body;
  }

  static void ExpectUnavailable(const HttpResponse& answer, const char* what) {
    EXPECT_EQ(answer.status, 503) << what << ": " << answer.body;
    EXPECT_EQ(answer.Code(), "storage_unavailable") << what;
    EXPECT_EQ(answer.Header("Content-Type"), "application/problem+json") << what;
    EXPECT_EQ(answer.Header("Retry-After"), "1") << what;
  }
};

TEST_F(FailingDisk, CommandsAre503AndWriteNothingThenRecoverByThemselves) {
  const std::int64_t head = Head();
  for (int code : {SQLITE_FULL, SQLITE_IOERR_WRITE}) {
    FaultVfs::FailWrites(code);
    ExpectUnavailable(Act("connect_marketo", "alice"), "command");
    ExpectUnavailable(CreateTenant("globex", "gina"), "new tenant");
    ExpectUnavailable(Invite("acme", "alice", "dan", "user"), "invite");
    // Reads do not need the disk to accept writes.
    const HttpResponse state = Get("/v1/tenants/acme/marketo", operator_);
    EXPECT_EQ(state.status, 200) << state.body;
    EXPECT_EQ(Str(state.Json(), "state"), "disconnected");
    EXPECT_EQ(Head(), head);
    FaultVfs::Clear();
  }
  FaultVfs::FailSyncs(SQLITE_IOERR_FSYNC);
  ExpectUnavailable(Act("connect_marketo", "alice"), "failed sync");
  FaultVfs::Clear();
  EXPECT_EQ(Head(), head);
  ExpectProjectionsMatchDisk();

  // The disk is back: the very commands that failed now succeed, at the next positions.
  const HttpResponse connected = Command(
      "acme", {{"command", "connect_marketo"}, {"actor", "alice"}, {"command_id", "retry-1"}});
  ASSERT_EQ(connected.status, 201) << connected.body;
  EXPECT_EQ(connected.Json().at("position").to_number<std::int64_t>(), head + 1);
  EXPECT_EQ(CreateTenant("globex", "gina").status, 201);
  const HttpResponse state = Get("/v1/tenants/acme/marketo", operator_);
  EXPECT_EQ(Str(state.Json(), "state"), "connected");
  ExpectProjectionsMatchDisk();
}

TEST_F(FailingDisk, ARetriedCommandIdAfterA503IsRecordedOnce) {
  const json::object invite{
      {"command", "invite_member"}, {"actor", "alice"}, {"member", "dan"},
      {"email", "dan@acme.test"},   {"role", "user"},   {"command_id", "invite-dan"}};
  FaultVfs::FailWrites(SQLITE_FULL);
  ExpectUnavailable(Command("acme", invite), "first try");
  FaultVfs::Clear();
  const HttpResponse second = Command("acme", invite);
  ASSERT_EQ(second.status, 201) << second.body;
  const HttpResponse third = Command("acme", invite);
  EXPECT_EQ(third.status, 200) << third.body;
  EXPECT_EQ(third.Json().at("position"), second.Json().at("position"));
  ExpectProjectionsMatchDisk();
}

// Clients keep sending commands while the disk fails on and off: every 201 is on disk with
// the events it announced, nothing of a 503 is, and memory ends equal to disk, also after a
// restart.
TEST_F(FailingDisk, UnderLoadEvery201IsKeptAndEvery503LeavesNothing) {
  const std::int64_t seeded = Head();
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::map<std::string, json::value> recorded;  // command id → 201 body
  std::vector<std::string> unavailable;
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        const std::string id = "c" + std::to_string(c) + "-" + std::to_string(i);
        const std::string member = "m" + std::to_string(c) + "x" + std::to_string(i);
        const HttpResponse answer = Command("acme", {{"command", "invite_member"},
                                                     {"actor", "alice"},
                                                     {"member", member},
                                                     {"email", member + "@acme.test"},
                                                     {"role", "user"},
                                                     {"command_id", id}});
        std::lock_guard lock(mutex);
        if (answer.status == 201) {
          recorded[id] = answer.Json();
        } else {
          EXPECT_EQ(answer.status, 503) << answer.body;
          unavailable.push_back(id);
        }
      }
    });
  }
  FaultVfs::Flap(24, std::chrono::milliseconds(25), 3);
  stop = true;
  for (std::thread& client : clients) client.join();
  EXPECT_FALSE(recorded.empty());
  EXPECT_FALSE(unavailable.empty()) << "no fault was hit";

  for (const auto& [id, body] : recorded) {
    auto events = app_->store->FindByCommandId("acme", id);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), 1u) << id;
    EXPECT_EQ((*events)[0].hash, Str(body.at("events").at(0), "hash")) << id;
  }
  for (const std::string& id : unavailable) {
    auto events = app_->store->FindByCommandId("acme", id);
    ASSERT_TRUE(events.ok());
    EXPECT_TRUE(events->empty()) << id;
  }
  EXPECT_EQ(Head(), seeded + static_cast<std::int64_t>(recorded.size()));
  ExpectProjectionsMatchDisk();

  StopServer();
  app_.reset();
  OpenFaultyApp();
  StartServer();
  EXPECT_EQ(Head(), seeded + static_cast<std::int64_t>(recorded.size()));
  ExpectProjectionsMatchDisk();
  EXPECT_EQ(Invite("acme", "alice", "zoe", "user").status, 201);
}

}  // namespace
}  // namespace custody::hardening
