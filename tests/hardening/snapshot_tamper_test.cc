// The projection snapshot lives in the database file but outside the hash chain. An edited
// snapshot must be found (verify, integrity) and never served: the server checks it against the
// log when it starts and answers from a rebuild of the log.

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "eventstore/sqlite.h"
#include "tests/hardening/server_process.h"
#include "tests/server/client.h"
#include "tests/support/temp_dir.h"

namespace custody::hardening {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// Runs the binary with `args`; its exit code, and its standard output in `out`.
int Custody(const std::string& args, std::string* out) {
  const std::string command = std::string(CUSTODY_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  out->clear();
  while (std::size_t read = std::fread(buffer, 1, sizeof buffer, pipe)) out->append(buffer, read);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Replaces every `from` by `to` (same length) in the stored snapshot, as someone editing the
// file would; the events are untouched.
void EditSnapshot(const std::string& db, const std::string& from, const std::string& to) {
  auto opened = eventstore::Database::Open(db, eventstore::Database::Mode::kReadWrite);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  eventstore::Database& file = **opened;
  std::string blob;
  {
    eventstore::Statement read = file.GetCachedStatement("SELECT blob FROM snapshots");
    ASSERT_TRUE(read.Step()) << "the demo left a snapshot";
    blob = std::string(read.ColumnBlob(0));
  }
  int replaced = 0;
  for (std::size_t at = blob.find(from); at != std::string::npos; at = blob.find(from, at)) {
    blob.replace(at, from.size(), to);
    ++replaced;
  }
  ASSERT_GT(replaced, 0);
  eventstore::Statement write = file.GetCachedStatement("UPDATE snapshots SET blob = ?");
  write.BindBlob(0, blob.data(), blob.size());
  ASSERT_TRUE(write.Run().ok());
}

std::vector<std::string> Access(std::uint16_t port, const std::string& token) {
  const servertest::HttpResponse answer = servertest::Send(port, "GET", "/v1/tenants/acme/marketo",
                                                           {{"Authorization", "Bearer " + token}});
  std::vector<std::string> names;
  if (answer.status != 200) return names;
  const json::value state = json::parse(answer.body);
  for (const json::value& name : state.at("access").as_array()) {
    names.emplace_back(name.as_string());
  }
  return names;
}

TEST(SnapshotTamper, AnEditedSnapshotIsFoundAndNeverServed) {
  testing::TempDir dir;
  const std::string db = dir.File("custody.db");
  std::string out;
  ASSERT_EQ(Custody("demo --db " + db, &out), 0) << out;
  ASSERT_EQ(Custody("token add --role operator --name test --db " + db, &out), 0) << out;
  const std::string token =
      out.substr(out.find("cst_"), out.find('\n', out.find("cst_")) - out.find("cst_"));
  ASSERT_EQ(Custody("verify --db " + db, &out), 0) << out;

  // carol holds access in the demo; the edited cache says "cxrol", whom the log never saw.
  EditSnapshot(db, "carol", "cxrol");
  EXPECT_EQ(Custody("verify --db " + db, &out), 1) << out;
  EXPECT_NE(out.find("projection snapshot"), std::string::npos) << out;

  ServerProcess server(CUSTODY_BINARY, db, dir.File("serve.log"));
  ASSERT_NE(server.port(), 0) << server.Log();
  const servertest::HttpResponse integrity = servertest::Send(
      server.port(), "GET", "/v1/integrity", {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(integrity.status, 200) << integrity.body;
  // Either the check found it first or the rebuild already replaced the snapshot; the log
  // itself always checks out.
  EXPECT_TRUE(json::parse(integrity.body).at("first_bad_position").is_null()) << integrity.body;

  // Within moments the state is the log's: carol, never cxrol.
  std::vector<std::string> access;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    access = Access(server.port(), token);
    if (std::find(access.begin(), access.end(), "carol") != access.end()) break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(std::find(access.begin(), access.end(), "carol"), access.end());
  EXPECT_EQ(std::find(access.begin(), access.end(), "cxrol"), access.end());
  EXPECT_NE(server.Log().find("does not match the log"), std::string::npos) << server.Log();

  // The rebuilt state was checkpointed over the edited snapshot.
  const int status = server.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << server.Log();
  EXPECT_EQ(Custody("verify --db " + db, &out), 0) << out;
}

// Removing the newest events leaves a valid, shorter chain. The snapshot, taken at the old head,
// is the trace: verify and integrity name the first removed position, and the server refuses
// to append over it (new events would take those positions, a checkpoint would replace it).
TEST(SnapshotTamper, EventsRemovedFromTheEndAreFoundAndNotBuriedByAServer) {
  testing::TempDir dir;
  const std::string db = dir.File("custody.db");
  std::string out;
  ASSERT_EQ(Custody("demo --db " + db, &out), 0) << out;
  std::int64_t head = 0;
  {
    auto opened = eventstore::Database::Open(db, eventstore::Database::Mode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    eventstore::Database& file = **opened;
    auto max = file.QueryInt64("SELECT max(position) FROM events");
    ASSERT_TRUE(max.ok());
    head = *max;
    ASSERT_TRUE(file.Execute("DROP TRIGGER events_no_delete").ok());
    ASSERT_TRUE(file.Execute("DELETE FROM events WHERE position = (SELECT max(position) "
                             "FROM events)")
                    .ok());
  }
  const std::string removed = "first bad position " + std::to_string(head);
  EXPECT_EQ(Custody("verify --db " + db, &out), 1) << out;
  EXPECT_NE(out.find(removed), std::string::npos) << out;
  EXPECT_NE(out.find("events were removed from its end"), std::string::npos) << out;

  ServerProcess server(CUSTODY_BINARY, db, dir.File("serve.log"));
  EXPECT_EQ(server.port(), 0) << server.Log();
  const int status = server.Stop(SIGKILL);  // already gone: returns how it ended
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << server.Log();
  EXPECT_NE(server.Log().find("events were removed"), std::string::npos) << server.Log();

  // Nothing was appended or checkpointed: the trace is still there.
  EXPECT_EQ(Custody("verify --db " + db, &out), 1) << out;
  EXPECT_NE(out.find(removed), std::string::npos) << out;
}

// What /healthz says of the chain once the server's check after its start has run.
json::value ChainHealth(std::uint16_t port) {
  json::value health;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    const servertest::HttpResponse answer = servertest::Send(port, "GET", "/healthz", {});
    health = json::parse(answer.body);
    if (health.at("chain") != "unchecked") break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return health;
}

// A server on an altered log serves the altered events as history: it says so on /healthz
// once it has checked the chain, and in its log.
TEST(SnapshotTamper, AServerOnAnAlteredChainSaysSoOnHealthz) {
  testing::TempDir dir;
  const std::string db = dir.File("custody.db");
  std::string out;
  ASSERT_EQ(Custody("demo --db " + db, &out), 0) << out;
  {
    ServerProcess server(CUSTODY_BINARY, db, dir.File("clean.log"));
    ASSERT_NE(server.port(), 0) << server.Log();
    EXPECT_EQ(ChainHealth(server.port()).at("chain"), "ok");
    server.Stop(SIGTERM);
  }
  {
    auto opened = eventstore::Database::Open(db, eventstore::Database::Mode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ASSERT_TRUE((*opened)->Execute("DROP TRIGGER events_no_update").ok());
    ASSERT_TRUE((*opened)->Execute("UPDATE events SET actor = 'mallory' WHERE position = 5").ok());
  }
  ServerProcess server(CUSTODY_BINARY, db, dir.File("altered.log"));
  ASSERT_NE(server.port(), 0) << server.Log();
  const json::value health = ChainHealth(server.port());
  EXPECT_EQ(health.at("chain"), "altered") << json::serialize(health);
  EXPECT_EQ(health.at("first_bad_position").as_int64(), 5) << json::serialize(health);
  EXPECT_EQ(health.at("status"), "ok");  // still serving: a probe must not restart it in a loop
  EXPECT_NE(server.Log().find("the hash chain is altered: first bad position 5"), std::string::npos)
      << server.Log();
}

// The commands table is outside the chain too: with a row renamed, every event checks out, yet
// /healthz says the log is altered (with no bad position) and /v1/integrity says what is.
TEST(SnapshotTamper, AnAlteredCommandsTableIsReportedByTheServer) {
  testing::TempDir dir;
  const std::string db = dir.File("custody.db");
  std::string out;
  ASSERT_EQ(Custody("demo --db " + db, &out), 0) << out;
  const std::string marker = "export OP=";
  const std::size_t at = out.find(marker);
  ASSERT_NE(at, std::string::npos) << out;
  const std::string operator_token =
      out.substr(at + marker.size(), out.find('\n', at) - at - marker.size());
  {
    auto opened = eventstore::Database::Open(db, eventstore::Database::Mode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ASSERT_TRUE((*opened)->Execute("DROP TRIGGER commands_no_update").ok());
    ASSERT_TRUE(
        (*opened)
            ->Execute("UPDATE commands SET command_id = 'renamed' WHERE command_id = 'demo-3'")
            .ok());
  }
  ServerProcess server(CUSTODY_BINARY, db, dir.File("altered.log"));
  ASSERT_NE(server.port(), 0) << server.Log();
  const json::value health = ChainHealth(server.port());
  EXPECT_EQ(health.at("chain"), "altered") << json::serialize(health);
  EXPECT_TRUE(health.at("first_bad_position").is_null()) << json::serialize(health);

  const servertest::HttpResponse integrity = servertest::Send(
      server.port(), "GET", "/v1/integrity", {{"Authorization", "Bearer " + operator_token}});
  ASSERT_EQ(integrity.status, 200) << integrity.body;
  const json::value report = json::parse(integrity.body);
  EXPECT_EQ(report.at("ok"), false) << integrity.body;
  EXPECT_TRUE(report.at("first_bad_position").is_null()) << integrity.body;
  EXPECT_NE(std::string(report.at("problem").as_string()).find("commands table"), std::string::npos)
      << integrity.body;
  EXPECT_NE(server.Log().find("the commands table does not name exactly"), std::string::npos)
      << server.Log();
}

}  // namespace
}  // namespace custody::hardening
