#pragma once

// An App on a real SQLite file in a temporary folder, and a one-line way to run a command
// body exactly as a client would send it.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/command_codec.h"
#include "server/app.h"
#include "tests/support/temp_dir.h"

namespace custody::testing {

class AppFixture : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    app_.reset();
    // Durability is the event store's tests' business; these need speed, not fsync.
    eventstore::Options options;
    options.synchronous_full = false;
    auto opened = server::App::Open(dir_.File("custody.db"), options);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    app_ = std::move(opened).value();
  }

  // Creates `tenant` with `admin` as its first admin.
  projections::CommandReply CreateTenant(const std::string& tenant, const std::string& admin) {
    auto decoded = DecodeCreateTenant(R"({"tenant":")" + tenant + R"(","admin":")" + admin +
                                      R"(","email":")" + admin + "@" + tenant + R"(.example"})");
    EXPECT_TRUE(std::holds_alternative<DecodedCreateTenant>(decoded));
    auto reply =
        app_->commands->CreateTenant(std::get<DecodedCreateTenant>(decoded), "operator", {});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? *reply : projections::CommandReply{};
  }

  // A command body decoded; fails the test (nullopt) if it does not decode.
  static std::optional<DecodedCommand> Decode(const std::string& body) {
    auto decoded = DecodeCommand(body);
    if (auto* error = std::get_if<DecodeError>(&decoded)) {
      ADD_FAILURE() << "does not decode: " << body << ": " << error->message;
      return std::nullopt;
    }
    return std::get<DecodedCommand>(std::move(decoded));
  }

  // Runs one command body in `tenant`; fails the test if the body does not decode.
  projections::CommandReply Run(const std::string& tenant, const std::string& body) {
    auto decoded = Decode(body);
    if (!decoded) return {};
    auto reply = app_->commands->Execute(tenant, *decoded, Source{"127.0.0.1", "test", ""});
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    return reply.ok() ? *reply : projections::CommandReply{};
  }

  // Starts one command body in `tenant` without waiting: `done` gets the reply. Fails the
  // test, and starts nothing, if the body does not decode.
  void RunAsync(const std::string& tenant, const std::string& body,
                projections::CommandService::Done done) {
    if (auto decoded = Decode(body)) {
      app_->commands->ExecuteAsync(tenant, std::move(*decoded), {}, std::move(done));
    }
  }

  // Starts every body in `tenant` one after the other without waiting for any reply, then
  // waits for all of them: the replies, each with the index of its body, in the order they
  // came. Empty (with a test failure) if they do not all come within 30 s.
  using Answer = std::pair<std::size_t, Result<projections::CommandReply>>;
  std::vector<Answer> RunTogether(const std::string& tenant,
                                  const std::vector<std::string>& bodies) {
    // Shared with the callbacks, which may outlive this call if the wait gives up.
    struct Answers {
      std::mutex mutex;
      std::condition_variable answered;
      std::vector<Answer> replies;
    };
    const auto answers = std::make_shared<Answers>();
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      RunAsync(tenant, bodies[i], [answers, i](Result<projections::CommandReply> reply) {
        std::lock_guard lock(answers->mutex);
        answers->replies.emplace_back(i, std::move(reply));
        answers->answered.notify_all();
      });
    }
    std::unique_lock lock(answers->mutex);
    const bool all = answers->answered.wait_for(
        lock, std::chrono::seconds(30), [&] { return answers->replies.size() == bodies.size(); });
    EXPECT_TRUE(all) << answers->replies.size() << " of " << bodies.size() << " replies";
    return all ? answers->replies : std::vector<Answer>{};
  }

  // Runs a command that must be recorded, and returns the position of its last event.
  std::int64_t Record(const std::string& tenant, const std::string& body) {
    auto reply = Run(tenant, body);
    EXPECT_EQ(reply.kind, projections::CommandReply::Kind::kRecorded) << body;
    return reply.position;
  }

  // Runs a command that a rule must refuse, and returns the rule.
  std::string Refuse(const std::string& tenant, const std::string& body) {
    auto reply = Run(tenant, body);
    EXPECT_EQ(reply.kind, projections::CommandReply::Kind::kRejected) << body;
    return reply.refusal ? reply.refusal->rule : "";
  }

  projections::TenantView View(const std::string& tenant) {
    auto view = app_->projections->Tenant(tenant);
    EXPECT_TRUE(view.has_value()) << tenant;
    return view.value_or(projections::TenantView{});
  }

  TempDir dir_;
  std::unique_ptr<server::App> app_;
};

// Command bodies of the stories.
inline std::string Invite(const std::string& actor, const std::string& member,
                          const std::string& role) {
  return R"({"command":"invite_member","actor":")" + actor + R"(","member":")" + member +
         R"(","email":")" + member + R"(@example.com","role":")" + role + R"("})";
}
inline std::string Simple(const std::string& command, const std::string& actor) {
  return R"({"command":")" + command + R"(","actor":")" + actor + R"("})";
}
inline std::string OnMember(const std::string& command, const std::string& actor,
                            const std::string& member) {
  return R"({"command":")" + command + R"(","actor":")" + actor + R"(","member":")" + member +
         R"("})";
}
inline std::string StepBody(const std::string& actor, const std::string& step,
                            const std::string& extra = "") {
  return R"({"command":"onboarding_step","actor":")" + actor + R"(","step":")" + step + "\"" +
         (extra.empty() ? "" : "," + extra) + "}";
}

}  // namespace custody::testing
