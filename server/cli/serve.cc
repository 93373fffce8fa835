// custody serve and custody demo.

#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/ip/address.hpp>

#include "projections/snapshot_check.h"
#include "server/app.h"
#include "server/cli/cli.h"
#include "server/cli/demo_stories.h"
#include "server/server.h"

namespace custody::cli {
namespace {

namespace po = boost::program_options;

// An IP address, or a host name as RFC 1123 spells one (labels of letters, digits and inner
// hyphens, at most 63 bytes each and 253 in all): anything else is refused before any lookup.
bool IsHostSyntax(const std::string& host) {
  boost::system::error_code error;
  boost::asio::ip::make_address(host, error);
  if (!error) return true;
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > 63 || host[i - 1] == '-' || host[i - label] == '-') return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(host[i])) || host[i] == '-') {
      ++label;
    } else {
      return false;
    }
  }
  return true;
}

// HOST:PORT, e.g. 127.0.0.1:8080, localhost:0 or [::1]:0.
bool ParseListen(const std::string& listen, server::ServerOptions& options) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!IsHostSyntax(host)) return false;
  unsigned port = 0;
  const char* begin = listen.data() + colon + 1;
  const char* end = listen.data() + listen.size();
  const auto parsed = std::from_chars(begin, end, port);
  if (begin == end || parsed.ptr != end || port > 65535) return false;
  options.host = host;
  options.port = static_cast<std::uint16_t>(port);
  return true;
}

void PrintDemoSummary(const DemoResult& result, std::ostream& out) {
  if (result.recorded + result.refused == 0) {
    out << "Demo already loaded: nothing appended.\n";
  } else {
    out << "Demo loaded: " << result.recorded << " commands recorded, " << result.refused
        << " refused by the rules as the stories intend.\n";
  }
}

// Writes a projection checkpoint every `period` until stopped, so a restart replays little.
class Checkpointer {
 public:
  Checkpointer(projections::Projections& projections, std::chrono::seconds period)
      : thread_([this, &projections, period] {
          std::unique_lock lock(mutex_);
          while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
            lock.unlock();
            if (Status saved = projections.Checkpoint(); !saved.ok()) {
              spdlog::warn("projection checkpoint failed: {}", saved.ToString());
            }
            lock.lock();
          }
        }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

// The snapshot the projections started from lies outside the hash chain: it is checked against
// the log, and the state rebuilt from the log if it was altered.
void CheckSnapshotAtStart(server::App& running) {
  auto check = projections::CheckSnapshot(*running.store);
  if (!check.ok()) {
    spdlog::warn("could not check the projection snapshot: {}", check.status().ToString());
    return;
  }
  if (!check->has_value() || (*check)->matches_log) return;
  spdlog::error("{}; rebuilding the state from the log", (*check)->Mismatch());
  if (Status rebuilt = running.projections->RebuildFromLog(); !rebuilt.ok()) {
    spdlog::error("rebuilding the projections failed: {}", rebuilt.ToString());
  } else if (Status saved = running.projections->Checkpoint(); !saved.ok()) {
    spdlog::warn("projection checkpoint failed: {}", saved.ToString());
  }
}

// The state served is rebuilt from the stored events: an event altered in the file would be
// served as history. The chain is checked once, after the start, and /healthz tells. It is
// background work: one thread at the lowest priority (set last, as a thread cannot raise it
// again; the snapshot check before it holds the projections' lock and must not be slowed),
// in chunks that each hold a read snapshot briefly (one long one would keep the WAL from
// restarting under the writer), ending early when the server stops.
void CheckChainAtStart(server::App& running, const std::atomic<bool>& stopping) {
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 19) != 0) {
    spdlog::debug("could not lower the chain check's priority");
  }
  eventstore::VerifyOptions options;
  options.chunk = 50000;
  options.cancel = &stopping;
  auto report = running.store->Verify(options);
  if (!report.ok()) {
    if (stopping) return;
    running.chain_first_bad_position = server::kChainCheckFailed;
    spdlog::error("could not check the hash chain: {}", report.status().ToString());
    return;
  }
  if (report->ok) {
    running.chain_first_bad_position = 0;
    return;
  }
  // Logged before /healthz can say it, so that whoever reads it there finds the line.
  if (report->commands_altered) {
    spdlog::error("{}: a repeated command id may be decided again (custody verify reports it)",
                  report->problem);
    running.chain_first_bad_position = server::kCommandsAltered;
    return;
  }
  spdlog::error(
      "the hash chain is altered: first bad position {}: {}; the state served "
      "includes the altered events (custody verify and GET /v1/integrity report it)",
      report->first_bad_position.value_or(1), report->problem);
  running.chain_first_bad_position = report->first_bad_position.value_or(1);
}

}  // namespace

int RunServe(const Args& args) {
  std::string db, listen = "127.0.0.1:8080";
  bool demo = false;
  server::ServerOptions server_options;
  // Read as signed numbers: "-5" into a size_t would wrap around to no limit at all.
  auto body_limit = static_cast<std::int64_t>(server_options.body_limit);
  auto max_connections = static_cast<std::int64_t>(server_options.max_connections);
  int read_timeout = static_cast<int>(server_options.read_timeout.count());
  int idle_timeout = static_cast<int>(server_options.idle_timeout.count());
  po::options_description options("custody serve");
  AddDbOption(options, &db);
  options.add_options()("listen", po::value(&listen)->value_name("HOST:PORT"),
                        "where to listen (default 127.0.0.1:8080; port 0 picks a free one)")(
      "demo", po::bool_switch(&demo),
      "load the demo stories (into an empty database, or one holding them), print tokens")(
      "body-limit", po::value(&body_limit)->value_name("BYTES"),
      "largest request body accepted (default 65536; 1024 to 16777216)")(
      "max-connections", po::value(&max_connections)->value_name("N"),
      "connections served at once (default 1024; 1 to 65536)")(
      "header-limit", po::value(&server_options.header_limit)->value_name("BYTES"),
      "largest request header accepted (default 16384; 1024 to 60000)")(
      "read-timeout", po::value(&read_timeout)->value_name("SECONDS"),
      "time to send a whole request once it has started (default 15)")(
      "idle-timeout", po::value(&idle_timeout)->value_name("SECONDS"),
      "how long a keep-alive connection may wait for its next request (default 60)");
  po::variables_map values;
  if (int code = Parse(args, "custody serve [--db PATH] [--listen HOST:PORT] [--demo]", options, {},
                       values);
      code >= 0) {
    return code;
  }
  if (!ParseListen(listen, server_options)) {
    return Fail(kUsage,
                "--listen must be HOST:PORT, HOST an IP address ([::1] for IPv6) or a "
                "host name, not '" +
                    listen + "'");
  }
  if (!server::IsSupportedHeaderLimit(server_options.header_limit)) {
    return Fail(kUsage, "--header-limit must be from " + std::to_string(server::kMinHeaderLimit) +
                            " to " + std::to_string(server::kMaxHeaderLimit) + " bytes");
  }
  if (body_limit < server::kMinBodyLimit || body_limit > server::kMaxBodyLimit) {
    return Fail(kUsage, "--body-limit must be from " + std::to_string(server::kMinBodyLimit) +
                            " to " + std::to_string(server::kMaxBodyLimit) + " bytes");
  }
  if (max_connections < 1 || max_connections > server::kMaxConnections) {
    return Fail(kUsage,
                "--max-connections must be from 1 to " + std::to_string(server::kMaxConnections));
  }
  server_options.body_limit = static_cast<std::size_t>(body_limit);
  server_options.max_connections = static_cast<std::size_t>(max_connections);
  if (read_timeout < 1 || idle_timeout < 1) {
    return Fail(kUsage, "--read-timeout and --idle-timeout must be at least 1 second");
  }
  server_options.read_timeout = std::chrono::seconds(read_timeout);
  server_options.idle_timeout = std::chrono::seconds(idle_timeout);

  // Standard output says where the server listens (scripts read it); the log, the access log
  // and every warning and error, goes to standard error, apart from it.
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));

  // A taken port is found before the database is opened, so that a mistaken start creates no
  // file (and takes no writer lock).
  if (Status listenable = server::Server::CheckListenAddress(server_options); !listenable.ok()) {
    // An address that names no host is the command line's mistake; a taken port is not.
    return UsageOrStorageFailure(listenable);
  }
  // Every worker and I/O thread may read at once (queries; tokens and repeated command ids):
  // a connection each, kept open, so that none is opened and closed per request.
  eventstore::Options store_options;
  store_options.read_connections = server_options.worker_threads + server_options.io_threads;
  auto app = server::App::Open(ResolveDb(db), std::move(store_options));
  if (!app.ok()) return StorageFailure(app.status());
  if (demo) {
    auto loaded = LoadDemo(**app);
    if (!loaded.ok()) return UsageOrStorageFailure(loaded.status());
    PrintDemoSummary(*loaded, std::cout);
  }
  auto server = server::Server::Start(**app, server_options);
  if (!server.ok()) return StorageFailure(server.status());
  const std::string base_url =
      "http://" + server::UrlAuthority(server_options.host, (*server)->port());
  std::cout << "custody is listening on " << base_url << " (database " << (*app)->path << ")\n";
  if (demo) {
    if (Status printed = PrintDemoTokens(**app, base_url, std::cout); !printed.ok()) {
      return StorageFailure(printed);
    }
  }
  std::cout << "Stop with Ctrl-C.\n" << std::flush;
  {
    server::App& running = **app;
    Checkpointer checkpointer(*running.projections, std::chrono::seconds(30));
    std::atomic<bool> stopping{false};
    std::thread start_checks([&running, &stopping] {
      CheckSnapshotAtStart(running);
      CheckChainAtStart(running, stopping);
    });
    (*server)->WaitForSignal();
    stopping = true;
    start_checks.join();
  }
  std::cout << "custody stopped cleanly.\n";
  return kDone;
}

int RunDemo(const Args& args) {
  std::string db;
  po::options_description options("custody demo");
  AddDbOption(options, &db);
  po::variables_map values;
  if (int code = Parse(args, "custody demo [--db PATH]", options, {}, values); code >= 0) {
    return code;
  }
  auto app = server::App::Open(ResolveDb(db));
  if (!app.ok()) return StorageFailure(app.status());
  auto loaded = LoadDemo(**app);
  if (!loaded.ok()) return UsageOrStorageFailure(loaded.status());
  PrintDemoSummary(*loaded, std::cout);
  // Fresh tokens every time (the earlier demo ones are revoked): they are shown only once.
  if (Status printed = PrintDemoTokens(**app, "http://127.0.0.1:8080", std::cout); !printed.ok()) {
    return StorageFailure(printed);
  }
  std::cout << "(start the server with: custody serve --db " << (*app)->path << ")\n";
  return kDone;
}

}  // namespace custody::cli
