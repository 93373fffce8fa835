// The real server under concurrent command load, killed with SIGKILL at random moments (and
// now and then stopped with SIGTERM), round after round. After every stop: every acknowledged
// (201) command is there with the events it announced, every other command is either wholly
// there or wholly absent, `custody verify` passes, and the restarted server's projections
// equal a rebuild from the log.

#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "eventstore/event_store.h"
#include "projections/projections.h"
#include "projections/render.h"
#include "server/app.h"
#include "tests/hardening/server_process.h"
#include "tests/server/client.h"
#include "tests/support/temp_dir.h"

namespace custody::hardening {
namespace {

namespace json = boost::json;
using servertest::HttpResponse;

struct Sent {
  std::string tenant;
  std::size_t events = 0;  // how many events the command appends when it succeeds
  bool acknowledged = false;
  bool refused = false;             // answered 503 (the server was stopping): nothing may be stored
  std::vector<std::string> hashes;  // from the 201 answer
};

class CrashLoop : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.File("custody.db");
    auto app = server::App::Open(db_);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    auto token = (*app)->tokens->Add("operator", "", "crash", 1000);
    ASSERT_TRUE(token.ok());
    token_ = token->second;
  }

  // One client: its own tenant, then commands in a fixed order whose event counts are known,
  // until a command goes unanswered (the server died) or `stop`.
  void Client(std::uint16_t port, const std::string& tenant, const std::atomic<bool>& stop) {
    const servertest::Headers headers = {{"Authorization", "Bearer " + token_},
                                         {"Content-Type", "application/json"}};
    auto send = [&](const std::string& id, const std::string& target, json::object body,
                    std::size_t events) {
      body["command_id"] = id;
      {
        std::lock_guard lock(mutex_);
        sent_[id] = Sent{tenant, events, false, false, {}};
      }
      const HttpResponse answer =
          servertest::Send(port, "POST", target, headers, json::serialize(body));
      if (answer.status == 0) return false;  // killed in flight
      std::lock_guard lock(mutex_);
      if (answer.status == 503) {  // a graceful stop refuses what comes late
        sent_[id].refused = true;
        return false;
      }
      EXPECT_EQ(answer.status, 201) << id << ": " << answer.body;
      if (answer.status != 201) return false;
      Sent& record = sent_[id];
      record.acknowledged = true;
      const json::value reply = answer.Json();
      for (const auto& event : reply.at("events").as_array()) {
        record.hashes.emplace_back(event.at("hash").as_string());
      }
      return true;
    };
    const std::string commands = "/v1/tenants/" + tenant + "/commands";
    auto act = [&](const std::string& id, json::object body, std::size_t events) {
      return send(id, commands, std::move(body), events);
    };
    if (!send(tenant + "-create", "/v1/tenants",
              {{"tenant", tenant}, {"admin", "a"}, {"email", "a@" + tenant + ".test"}}, 2) ||
        !act(tenant + "-connect", {{"command", "connect_marketo"}, {"actor", "a"}}, 1)) {
      return;
    }
    for (int i = 0; !stop; ++i) {
      const std::string member = "u" + std::to_string(i);
      const std::string id = tenant + "-" + member + "-";
      if (!act(id + "invite",
               {{"command", "invite_member"},
                {"actor", "a"},
                {"member", member},
                {"email", member + "@" + tenant + ".test"},
                {"role", "user"}},
               1) ||
          !act(id + "grant",
               {{"command", "grant_marketo_access"}, {"actor", "a"}, {"member", member}}, 1) ||
          !act(id + "step",
               {{"command", "onboarding_step"}, {"actor", member}, {"step", "get_started"}}, 1) ||
          // Holding access, the member's removal revokes it first: two events, one command.
          !act(id + "remove", {{"command", "remove_member"}, {"actor", "a"}, {"member", member}},
               2)) {
        return;
      }
    }
  }

  // The log after a stop, against what the clients were told.
  void CheckLog(int round) {
    const std::string verify = std::string(CUSTODY_BINARY) + " verify --db " + db_ + " >" +
                               dir_.File("verify.out") + " 2>&1";
    const int status = std::system(verify.c_str());
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;

    auto store = eventstore::EventStore::OpenReadOnly(db_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::map<std::string, std::vector<Event>> by_command;
    std::int64_t last = 0;
    ASSERT_TRUE((*store)
                    ->Scan({},
                           [&](const Event& event) {
                             EXPECT_EQ(event.position, last + 1);
                             last = event.position;
                             by_command[event.command_id].push_back(event);
                             return true;
                           })
                    .ok());
    std::lock_guard lock(mutex_);
    unacknowledged_kept_ = unacknowledged_lost_ = 0;
    for (const auto& [id, events] : by_command) {
      const auto found = sent_.find(id);
      ASSERT_NE(found, sent_.end()) << "round " << round << ": unknown command '" << id << "'";
      // All or nothing, and contiguous: one command is one atomic append.
      EXPECT_EQ(events.size(), found->second.events) << "round " << round << ": " << id;
      EXPECT_FALSE(found->second.refused) << "round " << round << ": refused " << id << " stored";
      EXPECT_EQ(events.back().position - events.front().position + 1,
                static_cast<std::int64_t>(events.size()))
          << id;
    }
    for (const auto& [id, sent] : sent_) {
      if (!sent.acknowledged) {
        ++(by_command.count(id) ? unacknowledged_kept_ : unacknowledged_lost_);
        continue;
      }
      const auto found = by_command.find(id);
      ASSERT_NE(found, by_command.end())
          << "round " << round << ": acknowledged " << id << " is missing";
      ASSERT_EQ(found->second.size(), sent.hashes.size()) << id;
      for (std::size_t i = 0; i < sent.hashes.size(); ++i) {
        EXPECT_EQ(found->second[i].hash, sent.hashes[i]) << id;
      }
    }
  }

  // The running server's answers against a rebuild from the log, for every tenant.
  void CheckProjections(std::uint16_t port) {
    auto store = eventstore::EventStore::OpenReadOnly(db_);
    ASSERT_TRUE(store.ok());
    auto rebuilt = projections::Rebuild(**store, "", std::nullopt);
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
    const servertest::Headers auth = {{"Authorization", "Bearer " + token_}};
    auto get = [&](const std::string& target) {
      const HttpResponse answer = servertest::Send(port, "GET", target, auth);
      EXPECT_EQ(answer.status, 200) << target << ": " << answer.body;
      return answer.Json();
    };
    for (const auto& [tenant, view] : rebuilt->tenants) {
      if (!view.instance.created) continue;
      const std::string base = "/v1/tenants/" + tenant;
      json::value marketo = get(base + "/marketo");
      json::value expected = projections::RenderMarketo(view, 0);
      if (marketo.is_object()) marketo.as_object().erase("as_of");
      expected.as_object().erase("as_of");
      EXPECT_EQ(marketo, expected) << tenant;
      EXPECT_EQ(get(base + "/marketo/custody"), projections::RenderCustody(view)) << tenant;
      EXPECT_EQ(get(base + "/onboarding"), projections::RenderOnboardingList(view)) << tenant;
    }
  }

  testing::TempDir dir_;
  std::string db_;
  std::string token_;
  std::mutex mutex_;
  std::map<std::string, Sent> sent_;  // by command id
  int unacknowledged_kept_ = 0;       // in flight when killed, and committed
  int unacknowledged_lost_ = 0;       // in flight when killed, and not committed
};

TEST_F(CrashLoop, KilledAtRandomNothingAcknowledgedIsLostNothingIsHalfWritten) {
  std::mt19937 random(20261121);
  constexpr int kRounds = 12;
  int acknowledged_total = 0;
  for (int round = 0; round < kRounds; ++round) {
    ServerProcess server(CUSTODY_BINARY, db_, dir_.File("serve.log"));
    ASSERT_NE(server.port(), 0) << "round " << round << ": the server did not start\n"
                                << server.Log();
    if (round > 0) CheckProjections(server.port());

    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) {
      const std::string tenant = "r" + std::to_string(round) + "c" + std::to_string(c);
      clients.emplace_back([&, tenant] { Client(server.port(), tenant, stop); });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + random() % 400));
    // Most rounds die hard; every third stops gracefully (and checkpoints the projections).
    const bool graceful = round % 3 == 2;
    const int status = server.Stop(graceful ? SIGTERM : SIGKILL);
    if (graceful) {
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round << "\n"
                                                                 << server.Log();
    } else {
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "round " << round;
    }
    stop = true;
    for (std::thread& client : clients) client.join();
    {
      std::lock_guard lock(mutex_);
      int acknowledged = 0;
      for (const auto& [id, sent] : sent_) acknowledged += sent.acknowledged ? 1 : 0;
      EXPECT_GT(acknowledged, acknowledged_total) << "round " << round << " recorded nothing";
      acknowledged_total = acknowledged;
    }
    CheckLog(round);
    if (HasFatalFailure()) return;
  }
  ServerProcess last(CUSTODY_BINARY, db_, dir_.File("serve.log"));
  ASSERT_NE(last.port(), 0) << last.Log();
  CheckProjections(last.port());
  const int status = last.Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << last.Log();
  std::printf(
      "%d rounds: %d commands acknowledged; unacknowledged checks: %d kept whole, %d "
      "absent\n",
      kRounds, acknowledged_total, unacknowledged_kept_, unacknowledged_lost_);
}

}  // namespace
}  // namespace custody::hardening
