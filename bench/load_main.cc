// custody_load: HTTP measurements against a running `custody serve`.
//
//   prepare   --port P --token T --tenants N --members M
//       creates tenants b0000.. with admin a0 and invites members w000000.. (spread over them)
//   commands  --port P --token T --tenants N --first-member F --members M --connections C
//             --seconds S
//       each connection walks its own members through their onboarding steps: one event each
//   queries   --port P --token T --requests N --tenants N --members-per-tenant K
//       owner, removal check, onboarding of one member, history page by actor, owner at= the
//       middle position: latency of each over N sequential keep-alive requests
//   first-answer --port P --token T --path PATH --log FILE [--timeout S] -- COMMAND...
//       starts COMMAND and reports the time until PATH is answered 200 (and COMMAND's pid)
//   free-port
//       prints a free TCP port of 127.0.0.1

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include "bench/common.h"
#include "bench/history.h"
#include "bench/http_load.h"
#include "domain/onboarding_steps.h"

extern char** environ;

namespace custody::bench {
namespace {

namespace json = boost::json;

std::string Tenant(std::int64_t i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "b%04lld", static_cast<long long>(i));
  return buffer;
}
std::string Worker(std::int64_t i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "w%06lld", static_cast<long long>(i));
  return buffer;
}

json::object Summary(LoadResult& result, int connections) {
  return {{"connections", connections},
          {"requests", result.done},
          {"failed", result.failed},
          {"seconds", result.seconds},
          {"per_s", result.seconds > 0 ? double(result.done) / result.seconds : 0.0},
          {"p50_ms", Quantile(result.latencies_ms, 0.5)},
          {"p99_ms", Quantile(result.latencies_ms, 0.99)},
          {"p999_ms", Quantile(result.latencies_ms, 0.999)}};
}

void ReportFailures(const std::string& what, const LoadResult& result) {
  if (result.failed > 0) {
    std::cerr << what << ": " << result.failed << " failed, first: " << result.first_failure
              << "\n";
  }
}

int Prepare(const Args& args) {
  const auto port = static_cast<std::uint16_t>(args.Int("port", 8080));
  const std::string token = args.Get("token");
  const std::int64_t tenants = args.Int("tenants", 100);
  const std::int64_t members = args.Int("members", 1000);
  constexpr int kConnections = 8;
  // Phase 1: tenants; phase 2: members, each connection inviting into its own tenants.
  std::vector<std::int64_t> next(kConnections, 0);
  auto created = RunLoad(port, kConnections, 0, [&](int c) -> std::optional<WireRequest> {
    const std::int64_t t = next[c] * kConnections + c;
    if (t >= tenants) return std::nullopt;
    ++next[c];
    const std::string body = "{\"tenant\":\"" + Tenant(t) + "\",\"admin\":\"a0\",\"email\":\"a0@" +
                             Tenant(t) + ".example\"}";
    return WireRequest{BuildRequest("POST", "/v1/tenants", token, body), 201};
  });
  ReportFailures("create tenants", created);
  std::fill(next.begin(), next.end(), 0);
  // Member m lives in tenant m % tenants; connection c invites into tenants t % 8 == c.
  auto invited = RunLoad(port, kConnections, 0, [&](int c) -> std::optional<WireRequest> {
    for (;;) {
      const std::int64_t m = next[c]++;
      if (m >= members) return std::nullopt;
      if ((m % tenants) % kConnections != c) continue;
      const std::string tenant = Tenant(m % tenants);
      const std::string body = "{\"command\":\"invite_member\",\"actor\":\"a0\",\"member\":\"" +
                               Worker(m) + "\",\"email\":\"" + Worker(m) + "@" + tenant +
                               ".example\",\"role\":\"user\"}";
      return WireRequest{BuildRequest("POST", "/v1/tenants/" + tenant + "/commands", token, body),
                         201};
    }
  });
  ReportFailures("invite members", invited);
  Emit("prepare", {{"tenants", tenants},
                   {"members", members},
                   {"seconds", created.seconds + invited.seconds},
                   {"failed", created.failed + invited.failed}});
  return created.failed + invited.failed == 0 ? 0 : 1;
}

std::string StepBody(const std::string& member, Step step, std::int64_t n) {
  std::string body = "{\"command\":\"onboarding_step\",\"actor\":\"" + member + "\",\"step\":\"" +
                     std::string(StepName(step)) + "\"";
  const std::string email = member + "@bench.example.com";
  switch (step) {
    case Step::kActivateWithSalesforce:
      body += ",\"api_enabled\":true";
      break;
    case Step::kSalesforceAllow:
      body += ",\"sales_email\":\"" + email + "\",\"salesforce_email\":\"" + email + "\"";
      break;
    case Step::kChooseEmailClient:
      body += n % 2 == 0 ? ",\"client\":\"outlook\"" : ",\"client\":\"gmail\"";
      break;
    case Step::kEnterEmail:
      body += ",\"email\":\"" + email + "\"";
      break;
    case Step::kSignature:
      body += ",\"skipped\":false";
      break;
    case Step::kTour:
      body += ",\"choice\":\"viewed\"";
      break;
    case Step::kLaunch:
      body += ",\"target\":\"web_app\"";
      break;
    case Step::kMsiPanelOpened:
      body += ",\"record\":\"lead\"";
      break;
    default:
      break;
  }
  return body + "}";
}

int Commands(const Args& args) {
  const auto port = static_cast<std::uint16_t>(args.Int("port", 8080));
  const std::string token = args.Get("token");
  const std::int64_t tenants = args.Int("tenants", 100);
  const std::int64_t first = args.Int("first-member", 0);
  const std::int64_t members = args.Int("members", 1000);
  const int connections = static_cast<int>(args.Int("connections", 1));
  struct Cursor {
    std::int64_t member;
    Step done = Step::kInvited;
  };
  // Connection c owns members first + c, first + c + C, ...: no two connections share a stream.
  std::vector<std::vector<Cursor>> owned(connections);
  for (std::int64_t m = first; m < first + members; ++m) {
    owned[(m - first) % connections].push_back(Cursor{m});
  }
  std::vector<std::size_t> turn(connections, 0);
  std::int64_t exhausted = 0;
  auto result =
      RunLoad(port, connections, args.Real("seconds", 5), [&](int c) -> std::optional<WireRequest> {
        auto& cursors = owned[c];
        for (std::size_t tries = 0; tries < cursors.size(); ++tries) {
          Cursor& cursor = cursors[turn[c]++ % cursors.size()];
          const auto step = NextStep(cursor.done, cursor.member % 2 == 0 ? "outlook" : "gmail");
          if (!step) continue;
          cursor.done = *step;
          const std::string tenant = Tenant(cursor.member % tenants);
          return WireRequest{BuildRequest("POST", "/v1/tenants/" + tenant + "/commands", token,
                                          StepBody(Worker(cursor.member), *step, cursor.member)),
                             201};
        }
        ++exhausted;
        return std::nullopt;
      });
  ReportFailures("commands", result);
  json::object summary = Summary(result, connections);
  summary["exhausted_connections"] = exhausted;
  Emit("http_commands", std::move(summary));
  return result.failed == 0 ? 0 : 1;
}

int Queries(const Args& args) {
  const auto port = static_cast<std::uint16_t>(args.Int("port", 8080));
  const std::string token = args.Get("token");
  const std::int64_t requests = args.Int("requests", 1000);
  const std::int64_t tenants = args.Int("tenants", 100);
  const auto [status, health] = Fetch(port, "GET", "/healthz", "");
  if (status != 200) {
    std::cerr << "healthz: " << status << " " << health << "\n";
    return 1;
  }
  const std::int64_t head = json::parse(health).at("position").as_int64();
  auto tenant = [&](std::int64_t i) { return TenantName(static_cast<int>(i % tenants)); };
  const std::vector<std::pair<std::string, std::function<std::string(std::int64_t)>>> kinds = {
      {"owner", [&](std::int64_t i) { return "/v1/tenants/" + tenant(i) + "/marketo"; }},
      {"removal_check",
       [&](std::int64_t i) {
         return "/v1/tenants/" + tenant(i) + "/members/m" + std::to_string(1 + i % 9) +
                "/removal-check";
       }},
      {"onboarding_member",
       [&](std::int64_t i) {
         return "/v1/tenants/" + tenant(i) + "/onboarding/m" + std::to_string(1 + i % 9);
       }},
      {"history_page_by_actor",
       [&](std::int64_t i) {
         // Pages start all over the log, not only at its beginning.
         return "/v1/events?actor=m" + std::to_string(1 + i % 9) +
                "&limit=100&after=" + std::to_string((i * 7919) % std::max<std::int64_t>(1, head));
       }},
      {"owner_at_middle",
       [&](std::int64_t i) {
         return "/v1/tenants/" + tenant(i) + "/marketo?at=" + std::to_string(head / 2);
       }},
  };
  int failures = 0;
  // `count` requests of one kind on one connection.
  auto measure = [&](const auto& target, std::int64_t count) {
    std::int64_t sent = 0;
    return RunLoad(port, 1, 0, [&](int) -> std::optional<WireRequest> {
      if (sent >= count) return std::nullopt;
      return WireRequest{BuildRequest("GET", target(sent++), token), 200};
    });
  };
  auto emit = [&](const std::string& label, LoadResult result) {
    json::object summary = Summary(result, 1);
    summary["query"] = label;
    summary["head"] = head;
    Emit("http_query", std::move(summary));
  };
  for (const auto& [name, target] : kinds) {
    if (name == "owner_at_middle") {
      // The first at= query of a tenant near a position rebuilds a kept view (PastViews):
      // measured apart, once per tenant, before the steady state.
      emit("owner_at_middle_first", measure(target, std::min(requests, tenants)));
    }
    auto result = measure(target, requests);
    ReportFailures(name, result);
    failures += result.failed > 0;
    emit(name, result);
  }
  return failures == 0 ? 0 : 1;
}

// A port nobody listens on now, for a server started later.
int FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  std::cout << acceptor.local_endpoint().port() << "\n";
  return 0;
}

int FirstAnswer(const Args& args) {
  const auto port = static_cast<std::uint16_t>(args.Int("port", 8080));
  const std::string token = args.Get("token");
  const std::string path = args.Get("path", "/healthz");
  const double timeout = args.Real("timeout", 60);
  std::vector<char*> argv;
  for (const std::string& arg : args.rest()) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = args.Get("log", "/dev/null");
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const auto start = Clock::now();
  pid_t pid = 0;
  if (argv.size() < 2 || posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    std::cerr << "first-answer: cannot start the command\n";
    return 1;
  }
  posix_spawn_file_actions_destroy(&actions);
  while (SecondsSince(start) < timeout) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      std::cerr << "first-answer: the server exited (see " << log << ")\n";
      return 1;
    }
    if (Fetch(port, "GET", path, token).first == 200) {
      Emit("first_answer",
           {{"ms", SecondsSince(start) * 1000}, {"pid", pid}, {"label", args.Get("label")}});
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(pid, SIGKILL);
  std::cerr << "first-answer: no answer within " << timeout << " s\n";
  return 1;
}

}  // namespace
}  // namespace custody::bench

int main(int argc, char** argv) {
  using namespace custody::bench;
  return RunSubcommand("custody_load", argc, argv,
                       {{"prepare", Prepare},
                        {"commands", Commands},
                        {"queries", Queries},
                        {"first-answer", FirstAnswer},
                        {"free-port", [](const Args&) { return FreePort(); }}});
}
