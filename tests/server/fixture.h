#pragma once

// A real server on 127.0.0.1 (an ephemeral port) over a fresh SQLite file, with one token of
// each kind, and helpers to talk to it.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include <boost/json.hpp>

#include "server/app.h"
#include "server/server.h"
#include "tests/server/client.h"
#include "tests/support/temp_dir.h"

namespace custody::servertest {

namespace json = boost::json;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    OpenApp();
    operator_ = AddToken("operator", "");
    writer_ = AddToken("writer", "acme");
    reviewer_ = AddToken("reviewer", "acme");
    reviewer_all_ = AddToken("reviewer", "");
    writer_globex_ = AddToken("writer", "globex");
    reviewer_globex_ = AddToken("reviewer", "globex");
    StartServer();
  }
  void TearDown() override {
    StopServer();
    app_.reset();
  }

  void OpenApp() {
    auto app = server::App::Open(db_.File("custody.db"));
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(app).value();
  }
  std::string AddToken(const std::string& role, const std::string& tenant) {
    auto added = app_->tokens->Add(role, tenant, role + "-" + tenant, 1'000);
    EXPECT_TRUE(added.ok()) << added.status().ToString();
    return added.ok() ? added->second : "";
  }
  void StartServer(server::ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    auto started = server::Server::Start(*app_, options);
    ASSERT_TRUE(started.ok()) << started.status().ToString();
    server_ = std::move(started).value();
    port_ = server_->port();
  }
  void StopServer() {
    if (server_) server_->Stop();
    server_.reset();
  }

  static Headers Auth(const std::string& token) {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }
  HttpResponse Get(const std::string& target, const std::string& token, Headers extra = {}) {
    Headers headers = Auth(token);
    headers.insert(headers.end(), extra.begin(), extra.end());
    return Send(port_, "GET", target, headers);
  }
  HttpResponse Post(const std::string& target, const std::string& token, const std::string& body,
                    const std::string& content_type = "application/json") {
    Headers headers = Auth(token);
    if (!content_type.empty()) headers.emplace_back("Content-Type", content_type);
    return Send(port_, "POST", target, headers, body);
  }
  HttpResponse Command(const std::string& tenant, const json::object& body,
                       const std::string& token = "") {
    return Post("/v1/tenants/" + tenant + "/commands", token.empty() ? operator_ : token,
                json::serialize(body));
  }
  HttpResponse CreateTenant(const std::string& tenant, const std::string& admin) {
    return Post(
        "/v1/tenants", operator_,
        json::serialize(json::object{
            {"tenant", tenant}, {"admin", admin}, {"email", admin + "@" + tenant + ".test"}}));
  }
  // Creates acme (alice) and invites bob (admin) and carol (user).
  void SeedAcme() {
    ASSERT_EQ(CreateTenant("acme", "alice").status, 201);
    ASSERT_EQ(Invite("acme", "alice", "bob", "admin").status, 201);
    ASSERT_EQ(Invite("acme", "alice", "carol", "user").status, 201);
  }
  HttpResponse Invite(const std::string& tenant, const std::string& actor,
                      const std::string& member, const std::string& role) {
    return Command(tenant, {{"command", "invite_member"},
                            {"actor", actor},
                            {"member", member},
                            {"email", member + "@" + tenant + ".test"},
                            {"role", role}});
  }
  HttpResponse Act(const std::string& command, const std::string& actor,
                   const std::string& member = "", const std::string& tenant = "acme") {
    json::object body{{"command", command}, {"actor", actor}};
    if (!member.empty()) body["member"] = member;
    return Command(tenant, body);
  }
  // The head position, as /healthz reports it.
  std::int64_t Head() {
    const HttpResponse health = Get("/healthz", "");
    EXPECT_EQ(health.status, 200) << health.body;
    const json::value body = health.Json();
    return body.is_object() ? body.at("position").to_number<std::int64_t>() : -1;
  }

  testing::TempDir db_;
  std::unique_ptr<server::App> app_;
  std::unique_ptr<server::Server> server_;
  std::uint16_t port_ = 0;
  std::string operator_, writer_, reviewer_, reviewer_all_, writer_globex_, reviewer_globex_;
};

// Member `name` of a JSON object as a string ("" when absent or not a string).
inline std::string Str(const json::value& value, const char* name) {
  if (!value.is_object()) return "";
  const auto* member = value.get_object().if_contains(name);
  return member != nullptr && member->is_string() ? std::string(member->get_string()) : "";
}

// The `type` of every event of a command or page body.
inline std::vector<std::string> Types(const json::value& body) {
  std::vector<std::string> types;
  if (!body.is_object() || !body.get_object().contains("events")) return types;
  for (const auto& event : body.at("events").as_array()) types.push_back(Str(event, "type"));
  return types;
}

}  // namespace custody::servertest
