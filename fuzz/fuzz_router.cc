// The pure request → response layer (server/router.h Handle), without a socket, over one App
// on a temporary file opened once per process. The input picks a token, a method, headers and
// gives the target and the body. Whatever arrives, the answer must be a well-formed response:
// never a 500 on a healthy disk, every error a problem document that is valid JSON, and a
// refused request must write nothing.

#include <stdlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "fuzz/check.h"
#include "server/app.h"
#include "server/metrics.h"
#include "server/problem.h"
#include "server/router.h"

namespace custody::fuzz {
namespace {

namespace json = boost::json;
using server::Request;
using server::Response;

struct World {
  std::string dir;
  std::unique_ptr<server::App> app;
  server::Metrics metrics;
  std::unique_ptr<server::Context> context;
  std::string tokens[6];  // none, operator, writer acme, reviewer acme, reviewer all, writer globex
};

World* g_world = nullptr;

void RemoveDir() {
  std::error_code ignored;
  if (g_world != nullptr) std::filesystem::remove_all(g_world->dir, ignored);
}

std::string AddToken(server::App& app, const std::string& role, const std::string& tenant) {
  auto added = app.tokens->Add(role, tenant, role + "-" + tenant, 1000);
  Check(added.ok(), "a token can be added");
  return added->second;
}

Response Post(const std::string& target, const std::string& body) {
  Request request;
  request.method = "POST";
  request.target = target;
  request.authorization = "Bearer " + g_world->tokens[1];
  request.content_type = "application/json";
  request.body = body;
  request.peer_ip = "127.0.0.1";
  return server::Handle(request, *g_world->context);
}

void Seed() {
  Post("/v1/tenants", R"({"tenant":"acme","admin":"alice","email":"alice@acme.test"})");
  Post("/v1/tenants", R"({"tenant":"globex","admin":"gina","email":"gina@globex.test"})");
  const char* commands[] = {
      R"({"command":"invite_member","actor":"alice","member":"bob","email":"b@acme.test","role":"admin"})",
      R"({"command":"invite_member","actor":"alice","member":"carol","email":"c@acme.test","role":"user"})",
      R"({"command":"connect_marketo","actor":"alice"})",
      R"({"command":"grant_marketo_access","actor":"alice","member":"carol"})",
      R"({"command":"onboarding_step","actor":"carol","step":"get_started"})",
  };
  for (const char* command : commands) {
    const Response response = Post("/v1/tenants/acme/commands", command);
    Check(response.status == 201, "the seed commands are recorded");
  }
}

// Takes one line (up to '\n') off the front of `input`.
std::string_view Line(std::string_view& input) {
  const std::size_t end = input.find('\n');
  const std::string_view line = input.substr(0, end);
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return line;
}

Request MakeRequest(std::string_view input) {
  Request request;
  request.peer_ip = "127.0.0.1";
  const auto flags = static_cast<unsigned char>(input[0]);
  const auto more = static_cast<unsigned char>(input[1]);
  input.remove_prefix(2);
  static const char* kMethods[] = {"GET", "POST", "HEAD", "PUT"};
  request.method = kMethods[(flags >> 3) & 3];
  static const char* kTypes[] = {"application/json", "application/json; charset=utf-8",
                                 "text/plain", ""};
  request.content_type = kTypes[(flags >> 5) & 3];
  static const char* kAccepts[] = {"", "application/json", "application/x-ndjson",
                                   "text/csv, application/x-ndjson"};
  request.accept = kAccepts[more & 3];
  request.target = std::string(Line(input));
  const unsigned auth = flags & 7;
  if (auth < 6) {
    request.authorization = auth == 0 ? "" : "Bearer " + g_world->tokens[auth];
  } else {
    request.authorization = std::string(Line(input));
  }
  if (more & 4) {
    request.has_last_event_id = true;
    request.last_event_id = std::string(Line(input));
  }
  if (more & 8) request.user_agent = std::string(Line(input));
  request.body = std::string(input);
  return request;
}

// Every answer: a known status; a JSON body that parses (strictly: UTF-8 and all); every
// error a problem document naming its code.
void CheckResponse(const Request& request, const Response& response) {
  const int status = response.status;
  Check(status != 500, "no request makes the server fail");
  Check(status == 200 || status == 201 || status == 400 || status == 401 || status == 403 ||
            status == 404 || status == 405 || status == 409 || status == 412 || status == 415 ||
            status == 503,
        "a status of the API");
  if (response.stream) {
    Check(status == 200 && (request.method == "GET" || request.method == "HEAD"),
          "only GET and HEAD answer streams");
    return;
  }
  if (response.content_type.rfind("application/", 0) != 0) return;  // metrics
  boost::system::error_code error;
  const json::value body = json::parse(response.body, error);
  Check(!error, "every JSON answer is valid JSON");
  if (status < 400) return;
  Check(response.content_type == server::kProblemContentType, "errors are problem documents");
  Check(body.is_object(), "a problem is an object");
  const json::object& problem = body.get_object();
  const json::value* code = problem.if_contains("code");
  Check(code != nullptr && code->is_string(), "a problem has a code");
  const json::value* type = problem.if_contains("type");
  Check(type != nullptr && type->is_string() &&
            type->get_string() ==
                std::string(server::kProblemTypeBase) + std::string(code->get_string()),
        "the type names the code");
  if (code->get_string() == "invalid_field" || code->get_string() == "secret_not_allowed") {
    const json::value* field = problem.if_contains("field");
    Check(field != nullptr && field->is_string(), "the problem names the field");
  }
  const json::value* echoed = problem.if_contains("status");
  Check(echoed != nullptr && echoed->is_int64() && echoed->get_int64() == status,
        "the problem repeats the status");
}

}  // namespace
}  // namespace custody::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace custody;
  auto* world = new fuzz::World();  // lives as long as the process
  std::string pattern =
      (std::filesystem::temp_directory_path() / "custody-fuzz-router-XXXXXX").string();
  fuzz::Check(mkdtemp(pattern.data()) != nullptr, "a temporary folder");
  world->dir = pattern;
  fuzz::g_world = world;
  std::atexit(fuzz::RemoveDir);
  eventstore::Options options;
  options.synchronous_full = false;  // a fuzzing run needs no durability
  auto app = server::App::Open(world->dir + "/custody.db", options);
  fuzz::Check(app.ok(), "the app opens");
  world->app = std::move(app).value();
  world->context = std::make_unique<server::Context>(server::Context{*world->app, world->metrics});
  world->tokens[1] = fuzz::AddToken(*world->app, "operator", "");
  world->tokens[2] = fuzz::AddToken(*world->app, "writer", "acme");
  world->tokens[3] = fuzz::AddToken(*world->app, "reviewer", "acme");
  world->tokens[4] = fuzz::AddToken(*world->app, "reviewer", "");
  world->tokens[5] = fuzz::AddToken(*world->app, "writer", "globex");
  fuzz::Seed();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace custody;
  if (size < 2) return 0;
  const server::Request request =
      fuzz::MakeRequest(std::string_view(reinterpret_cast<const char*>(data), size));
  server::App& app = *fuzz::g_world->app;
  const std::int64_t head = app.store->HeadPosition();
  const server::Response response = server::Handle(request, *fuzz::g_world->context);
  fuzz::CheckResponse(request, response);
  // Only a recorded command (201) or a recorded refusal (409) moves the head.
  if (response.status != 201 && response.status != 409) {
    fuzz::Check(app.store->HeadPosition() == head, "a refused request writes nothing");
  }
  return 0;
}
