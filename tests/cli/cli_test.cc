// The `custody` binary, run as a user would: output, files and exit codes.

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <set>

#include <fstream>
#include <sstream>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "domain/event.h"
#include "domain/events.h"
#include "eventstore/event_format.h"
#include "eventstore/event_store.h"
#include "tests/support/temp_dir.h"

namespace custody::testing {
namespace {

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class Cli : public ::testing::Test {
 protected:
  // Writes `events` to the file `name` as an NDJSON history, chained and hashed afresh (as a
  // forger would); returns its path.
  std::string WriteRehashed(std::vector<Event> events, const std::string& name) {
    std::string prev_hash = eventstore::kGenesisHash;
    std::ofstream file(dir_.File(name), std::ios::trunc);
    for (Event& event : events) {
      event.prev_hash = prev_hash;
      event.hash = prev_hash = eventstore::ChainHash(prev_hash, event);
      file << eventstore::EventToJson(event) << "\n";
    }
    return dir_.File(name);
  }

  // Runs `sql` on the database with every trigger guarding it dropped, as someone with write
  // access to the file could; returns the shell's status.
  int EditBehindCustodysBack(const std::string& sql) {
    const std::string script =
        "sqlite3 " + db() +
        " \"SELECT name FROM sqlite_master WHERE type='trigger'\" | while read t; "
        "do sqlite3 " +
        db() + " \"DROP TRIGGER $t\"; done; sqlite3 " + db() + " \"" + sql + "\"";
    return std::system(script.c_str());
  }
  // Runs `custody <args>` in the temporary folder; `args` is shell syntax, `environment` is
  // put before the command (e.g. "CUSTODY_DB=x.db").
  // `redirect` is where standard output goes instead of Outcome::out (e.g. /dev/full).
  Outcome Custody(const std::string& args, const std::string& environment = "",
                  const std::string& redirect = "") {
    const std::string out = redirect.empty() ? dir_.File("stdout") : redirect;
    const std::string err = dir_.File("stderr");
    const std::string command = "cd " + dir_.path().string() + " && " + environment + " " +
                                CUSTODY_BINARY + " " + args + " >" + out + " 2>" + err;
    const int status = std::system(command.c_str());
    Outcome run;
    run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (redirect.empty()) run.out = Slurp(out);
    run.err = Slurp(err);
    return run;
  }

  std::string db() const { return dir_.File("custody.db"); }

  // "revoked" or "live" for the token named `name` in `token list`, "missing" without one.
  std::string RevokedColumnOf(const std::string& name) {
    const std::string listed = Custody("token list --db " + db()).out;
    const std::size_t row = listed.find(" " + name + " ");
    if (row == std::string::npos) return "missing";
    const std::string line = listed.substr(row, listed.find('\n', row) - row);
    return line.ends_with("-") ? "live" : "revoked";
  }

  TempDir dir_;
};

// Position 1 of a history: acme's instance stream, by alice, at 2023-11-14T22:13:20Z, not yet
// hashed.
Event FirstEvent(const std::string& type, const std::string& data) {
  Event event;
  event.position = 1;
  event.id = "01a1fdca-0000-7000-8000-000000000001";
  event.stream = "acme/instance";
  event.version = 1;
  event.type = type;
  event.tenant = "acme";
  event.actor = "alice";
  event.subject = "alice";
  event.occurred_at = event.recorded_at = 1700000000000;  // in the past on any clock
  event.data = data;
  return event;
}

int CountLines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST_F(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(Custody("").code, 2);
  EXPECT_EQ(Custody("frobnicate").code, 2);
  const Outcome bad_option = Custody("verify --no-such-option");
  EXPECT_EQ(bad_option.code, 2);
  EXPECT_NE(bad_option.err.find("no-such-option"), std::string::npos);
  EXPECT_EQ(Custody("export --format xml --db " + db()).code, 2);
  EXPECT_EQ(Custody("token add --db " + db()).code, 2);  // no --role
  EXPECT_EQ(Custody("token add --role king --db " + db()).code, 2);
  EXPECT_EQ(Custody("serve --listen nowhere --db " + db()).code, 2);
  // A host that resolves to nothing is the command line's mistake too, and creates nothing.
  const std::string fresh = dir_.File("never-created.db");
  // Hosts no resolver is asked about: not a host name's syntax.
  for (const std::string& host : std::vector<std::string>{"bad_host", "-a.example", "a..b", "[::1",
                                                          std::string(64, 'a') + ".example"}) {
    const Outcome unresolved = Custody("serve --listen '" + host + ":0' --db " + fresh);
    EXPECT_EQ(unresolved.code, 2) << host << ": " << unresolved.err;
    EXPECT_NE(unresolved.err.find("--listen"), std::string::npos) << unresolved.err;
  }
  EXPECT_FALSE(std::filesystem::exists(fresh));
  // A missing positional argument is named as the usage line names it.
  const Outcome no_file = Custody("import --db " + db());
  EXPECT_EQ(no_file.code, 2);
  EXPECT_NE(no_file.err.find("missing FILE"), std::string::npos) << no_file.err;
  EXPECT_NE(Custody("token").err.find("missing ACTION"), std::string::npos);
  // A tenant a token is made for must be a tenant id.
  const Outcome bad_tenant =
      Custody("token add --role reviewer --tenant 'bad tenant' --db " + db());
  EXPECT_EQ(bad_tenant.code, 2);
  EXPECT_NE(bad_tenant.err.find("no tenant id"), std::string::npos) << bad_tenant.err;
}

TEST_F(Cli, EverySubcommandHasHelp) {
  for (const char* command : {"serve", "demo", "replay", "verify", "export", "import", "token"}) {
    const Outcome help = Custody(std::string(command) + " --help");
    EXPECT_EQ(help.code, 0) << command;
    EXPECT_NE(help.out.find("usage: custody " + std::string(command)), std::string::npos)
        << help.out;
    EXPECT_NE(help.out.find("--db PATH"), std::string::npos) << help.out;
    // Positional arguments are in the usage line, not listed as options.
    for (const char* positional : {"--action", "--id ", "--file"}) {
      EXPECT_EQ(help.out.find(positional), std::string::npos) << command << ": " << help.out;
    }
  }
  // Nor taken as options.
  for (const char* misuse :
       {"token --action list", "token revoke --id=tok_00000000", "import --file x.ndjson"}) {
    const Outcome refused = Custody(std::string(misuse) + " --db " + db());
    EXPECT_EQ(refused.code, 2) << misuse;
    EXPECT_NE(refused.err.find("unrecognised option '--"), std::string::npos) << refused.err;
  }
}

TEST_F(Cli, DbDefaultsToTheEnvironmentThenTheCurrentFolder) {
  ASSERT_EQ(Custody("demo").code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir_.File("custody.db")));
  const Outcome from_env = Custody("demo", "CUSTODY_DB=" + dir_.File("other.db"));
  EXPECT_EQ(from_env.code, 0) << from_env.err;
  EXPECT_TRUE(std::filesystem::exists(dir_.File("other.db")));
}

TEST_F(Cli, DemoLoadsTheStoriesOnceAndPrintsTokens) {
  const Outcome first = Custody("demo --db " + db());
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("Demo loaded"), std::string::npos);
  EXPECT_NE(first.out.find("cst_"), std::string::npos);  // a token was printed
  const Outcome exported = Custody("export --db " + db());
  const int events = CountLines(exported.out);
  EXPECT_GT(events, 60);

  const Outcome second = Custody("demo --db " + db());
  EXPECT_EQ(second.code, 0);
  EXPECT_NE(second.out.find("already loaded"), std::string::npos);
  EXPECT_EQ(CountLines(Custody("export --db " + db()).out), events);

  // The second run's tokens replace the first run's: one live operator token, not two.
  std::istringstream listed(Custody("token list --db " + db()).out);
  int operators = 0, live_operators = 0;
  for (std::string line; std::getline(listed, line);) {
    if (line.find("demo operator") == std::string::npos) continue;
    ++operators;
    if (line.size() >= 3 && line.compare(line.size() - 3, 3, "  -") == 0) ++live_operators;
  }
  EXPECT_EQ(operators, 2);
  EXPECT_EQ(live_operators, 1);
}

// A database with a real tenant acme: its history must never receive the demo's.
void RecordRealAcme(const std::string& path) {
  auto store = eventstore::EventStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  eventstore::AppendRequest request;
  request.stream = InstanceStream("acme");
  request.tenant = "acme";
  request.command_id = "real-1";
  Event created;
  created.type = events::TenantCreated::kType;
  created.actor = "zed";
  created.occurred_at = 1'800'000'000'000;
  created.data = events::EncodeData(events::TenantCreated{"acme"});
  request.events.push_back(std::move(created));
  ASSERT_TRUE((*store)->Append(std::move(request)).ok());
}

TEST_F(Cli, DemoGoesOnlyIntoAnEmptyDatabaseOrOneThatHoldsTheDemo) {
  RecordRealAcme(db());
  const std::string before = Custody("export --db " + db()).out;
  ASSERT_EQ(CountLines(before), 1);
  for (const char* command : {"demo", "serve --listen 127.0.0.1:0 --demo"}) {
    // A regression would leave the server running: the timeout makes it a failure, not a hang.
    const Outcome refused = Custody(std::string(command) + " --db " + db(), "timeout 10");
    EXPECT_EQ(refused.code, 2) << command;
    EXPECT_NE(refused.err.find("history that is not the demo's"), std::string::npos) << refused.err;
    EXPECT_EQ(refused.out.find("cst_"), std::string::npos) << command;  // no tokens either
  }
  EXPECT_EQ(Custody("export --db " + db()).out, before);
}

TEST_F(Cli, OneWritingProcessPerDatabase) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const std::string exported = dir_.File("demo.ndjson");
  std::ofstream(exported) << Custody("export --db " + db()).out;
  const std::string empty = dir_.File("empty.db");
  // A running server holds the log of each file it serves; this test holds them the same way.
  auto held = eventstore::EventStore::Open(db());
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  auto held_empty = eventstore::EventStore::Open(empty);
  ASSERT_TRUE(held_empty.ok()) << held_empty.status().ToString();
  for (const std::string& command : {"demo --db " + db(), "serve --listen 127.0.0.1:0 --db " + db(),
                                     "import --db " + empty + " " + exported}) {
    const Outcome refused = Custody(command, "timeout 10");
    EXPECT_EQ(refused.code, 3) << command;
    EXPECT_NE(refused.err.find("is open for writing by another process"), std::string::npos)
        << command << ": " << refused.err;
  }
  EXPECT_EQ((*held_empty)->HeadPosition(), 0);
  // Reading and tokens go on beside the writer.
  EXPECT_EQ(Custody("verify --db " + db()).code, 0);
  EXPECT_GT(CountLines(Custody("export --db " + db()).out), 60);
  EXPECT_EQ(Custody("token add --role operator --name ops --db " + db()).code, 0);

  held_empty->reset();
  const Outcome imported = Custody("import --db " + empty + " " + exported);
  EXPECT_EQ(imported.code, 0) << imported.err;
  EXPECT_NE(
      imported.out.find("imported " + std::to_string(CountLines(Slurp(exported))) + " events"),
      std::string::npos)
      << imported.out;
}

TEST_F(Cli, ServeOnATakenPortCreatesNoDatabase) {
  const int taken = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(taken, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(taken, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(::listen(taken, 1), 0);
  ASSERT_EQ(::getsockname(taken, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string port = std::to_string(ntohs(address.sin_port));

  const Outcome refused =
      Custody("serve --listen 127.0.0.1:" + port + " --db " + db(), "timeout 10");
  ::close(taken);
  EXPECT_EQ(refused.code, 3);
  EXPECT_NE(refused.err.find("cannot listen on 127.0.0.1:" + port), std::string::npos)
      << refused.err;
  EXPECT_FALSE(std::filesystem::exists(db()));
  EXPECT_FALSE(std::filesystem::exists(db() + "-lock"));
}

TEST_F(Cli, ReplayRebuildsTheDemoState) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const Outcome replay = Custody("replay --tenant acme --db " + db());
  ASSERT_EQ(replay.code, 0) << replay.err;
  const auto state = boost::json::parse(replay.out);
  const auto& acme = state.at("tenants").at("acme");
  EXPECT_EQ(acme.at("marketo").at("owner").at("member"), "bob");
  EXPECT_EQ(acme.at("custody").as_array().size(), 2u);
  EXPECT_EQ(acme.at("custody").at(0).at("owner"), "alice");

  const Outcome globex = Custody("replay --tenant globex --db " + db());
  EXPECT_EQ(boost::json::parse(globex.out).at("tenants").at("globex").at("marketo").at("state"),
            "disconnected");
}

TEST_F(Cli, ReplayTraceNamesEachChangeAndUntilStopsEarly) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const Outcome trace = Custody("replay --trace --tenant acme --db " + db());
  ASSERT_EQ(trace.code, 0) << trace.err;
  EXPECT_NE(trace.out.find("owner: none → alice"), std::string::npos);
  EXPECT_NE(trace.out.find("owner: alice → bob"), std::string::npos);
  EXPECT_NE(trace.out.find("access: - bob"), std::string::npos);

  // Before alice's disconnection (found in the trace), alice still owns it.
  std::istringstream lines(trace.out);
  std::string line;
  std::int64_t transferred_at = 0;
  while (std::getline(lines, line) && line.rfind("{\"position\"", 0) == 0) {
    const auto event = boost::json::parse(line);
    // Each line is the event as served (with its chain fields), then what it changed.
    EXPECT_EQ(event.at("hash").as_string().size(), 64u) << line;
    EXPECT_TRUE(event.as_object().contains("data")) << line;
    EXPECT_TRUE(event.at("changes").is_array()) << line;
    if (event.at("type") == "marketo.ownership_transferred") {
      transferred_at = event.at("position").as_int64();
    }
  }
  ASSERT_GT(transferred_at, 0);
  const Outcome before = Custody("replay --tenant acme --until " +
                                 std::to_string(transferred_at - 2) + " --db " + db());
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_EQ(boost::json::parse(before.out)
                .at("tenants")
                .at("acme")
                .at("marketo")
                .at("owner")
                .at("member"),
            "alice");
  EXPECT_EQ(Custody("replay --until yesterday --db " + db()).code, 2);
  // Out of range or empty is refused too, not read as 0 (an empty state) or as no bound.
  for (const char* until : {"99999999999999999999", "9223372036854775808", "-1", "''", "+5"}) {
    EXPECT_EQ(Custody(std::string("replay --until ") + until + " --db " + db()).code, 2) << until;
  }
}

TEST_F(Cli, ReplayIsAsOfThePositionAskedLikeAtOverHttp) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const std::int64_t head =
      boost::json::parse(Custody("replay --db " + db()).out).at("position").as_int64();
  // globex's events come after acme's: acme's own last event is before the head.
  const std::vector<std::pair<std::string, std::int64_t>> cases = {
      {"", head},
      {" --until " + std::to_string(head - 1), head - 1},
      {" --until " + std::to_string(head + 1000), head},  // past the head: as of the head
  };
  for (const auto& [until, expected] : cases) {
    const Outcome replay = Custody("replay --tenant acme" + until + " --db " + db());
    ASSERT_EQ(replay.code, 0) << until << ": " << replay.err;
    const auto state = boost::json::parse(replay.out);
    EXPECT_EQ(state.at("position").as_int64(), expected) << until;
    EXPECT_EQ(state.at("tenants").at("acme").at("marketo").at("as_of").as_int64(), expected)
        << until;
  }
}

TEST_F(Cli, ReplayNeverWritesToTheFile) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const std::string before = Slurp(db());
  ASSERT_EQ(Custody("replay --db " + db()).code, 0);
  ASSERT_EQ(Custody("verify --db " + db()).code, 0);
  ASSERT_EQ(Custody("export --db " + db()).code, 0);
  EXPECT_EQ(Slurp(db()), before);
}

TEST_F(Cli, VerifyReportsTheHeadOrTheFirstBadPosition) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const Outcome ok = Custody("verify --db " + db());
  EXPECT_EQ(ok.code, 0);
  EXPECT_NE(ok.out.find("events checked"), std::string::npos);
  EXPECT_NE(ok.out.find("hash "), std::string::npos);

  // Doctor one payload behind custody's back, with its guards dropped.
  ASSERT_EQ(EditBehindCustodysBack("UPDATE events SET actor='mallory' WHERE position=5"), 0);
  const Outcome bad = Custody("verify --db " + db());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("first bad position 5"), std::string::npos) << bad.out;
}

TEST_F(Cli, VerifyReportsAnAlteredCommandsTable) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  ASSERT_EQ(EditBehindCustodysBack("UPDATE commands SET command_id='renamed' "
                                   "WHERE command_id='demo-3'"),
            0);
  const Outcome bad = Custody("verify --db " + db());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.out.find("altered: the commands table does not name exactly the events"),
            std::string::npos)
      << bad.out;
  EXPECT_NE(bad.out.find("the log itself checks out"), std::string::npos) << bad.out;
}

TEST_F(Cli, ExportImportRoundTripVerifies) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const Outcome exported = Custody("export --db " + db());
  ASSERT_EQ(exported.code, 0);
  std::ofstream(dir_.File("history.ndjson")) << exported.out;
  const Outcome imported =
      Custody("import --db " + dir_.File("copy.db") + " " + dir_.File("history.ndjson"));
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_EQ(Custody("verify --db " + dir_.File("copy.db")).out, Custody("verify --db " + db()).out);
  EXPECT_EQ(Custody("export --db " + dir_.File("copy.db")).out, Slurp(dir_.File("history.ndjson")));

  // Importing into a database that already holds events is refused.
  EXPECT_EQ(Custody("import --db " + dir_.File("copy.db") + " " + dir_.File("history.ndjson")).code,
            1);

  // Lines of nothing but spaces and tabs are blank, as empty ones are; CRLF endings are fine.
  std::string spaced;
  std::istringstream lines(exported.out);
  for (std::string line; std::getline(lines, line);) spaced += line + "\r\n  \t\n\n";
  std::ofstream(dir_.File("spaced.ndjson")) << spaced;
  const Outcome blank =
      Custody("import --db " + dir_.File("spaced.db") + " " + dir_.File("spaced.ndjson"));
  ASSERT_EQ(blank.code, 0) << blank.err;
  EXPECT_EQ(Custody("export --db " + dir_.File("spaced.db")).out, exported.out);
}

TEST_F(Cli, ImportRefusesAPipeItCouldNotReadTwice) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const std::string copy = dir_.File("copy.db");
  const Outcome piped = Custody("import --db " + copy + " /dev/stdin",
                                "" + std::string(CUSTODY_BINARY) + " export --db " + db() + " |");
  EXPECT_EQ(piped.code, 2);
  EXPECT_NE(piped.err.find("is not a regular file"), std::string::npos) << piped.err;
  // A FIFO nobody writes is refused too, rather than waited on.
  const std::string fifo = dir_.File("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(Custody("import --db " + copy + " " + fifo, "timeout 10").code, 2);
  // From a file, the same export loads whole.
  const std::string exported = dir_.File("demo.ndjson");
  std::ofstream(exported) << Custody("export --db " + db()).out;
  const Outcome from_file = Custody("import --db " + copy + " " + exported);
  EXPECT_EQ(from_file.code, 0) << from_file.err;
  const std::string events = std::to_string(CountLines(Slurp(exported)));
  EXPECT_NE(from_file.out.find("imported " + events + " events; head position " + events),
            std::string::npos)
      << from_file.out;
  EXPECT_TRUE(Custody("export --db " + copy).out == Slurp(exported));
}

TEST_F(Cli, DoctoredImportIsRefusedWholeNamingTheLine) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  std::string history = Custody("export --db " + db()).out;
  const auto at = history.find("\"actor\":\"bob\"");
  ASSERT_NE(at, std::string::npos);
  const int line = CountLines(history.substr(0, at)) + 1;
  history.replace(at, 13, "\"actor\":\"eve\"");
  std::ofstream(dir_.File("doctored.ndjson")) << history;

  const Outcome refused =
      Custody("import --db " + dir_.File("copy.db") + " " + dir_.File("doctored.ndjson"));
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("line " + std::to_string(line)), std::string::npos) << refused.err;
  EXPECT_EQ(Custody("export --db " + dir_.File("copy.db")).out, "");
}

TEST_F(Cli, ImportRefusesAWellChainedEventOfAnUnknownType) {
  // A first event of a type custody does not know, hashed correctly: only the domain check
  // can refuse it.
  Event event = FirstEvent("marketo.teleported", R"({"admin":"alice"})");
  event.prev_hash = eventstore::kGenesisHash;
  event.hash = eventstore::ChainHash(event.prev_hash, event);
  std::ofstream(dir_.File("fake.ndjson")) << eventstore::EventToJson(event) << "\n";

  const Outcome refused = Custody("import --db " + db() + " " + dir_.File("fake.ndjson"));
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("line 1"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("marketo.teleported"), std::string::npos) << refused.err;
}

TEST_F(Cli, CsvExportHasAHeaderAndOneRowPerEvent) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const Outcome csv = Custody("export --format csv --tenant globex --db " + db());
  ASSERT_EQ(csv.code, 0);
  EXPECT_EQ(csv.out.rfind("position,id,stream,version,type", 0), 0u);
  const Outcome ndjson = Custody("export --tenant globex --db " + db());
  EXPECT_EQ(CountLines(csv.out), CountLines(ndjson.out) + 1);
  EXPECT_EQ(ndjson.out.find("acme/"), std::string::npos);
}

TEST_F(Cli, TokensArePrintedOnceListedWithoutSecretsAndRevocable) {
  const Outcome added =
      Custody("token add --role reviewer --tenant acme --name audit --db " + db());
  ASSERT_EQ(added.code, 0) << added.err;
  // The secret alone on standard output, so that TOKEN=$(custody token add ...) holds it.
  ASSERT_TRUE(added.out.starts_with("cst_")) << added.out;
  ASSERT_EQ(CountLines(added.out), 1);
  const std::string secret = added.out.substr(0, added.out.size() - 1);
  ASSERT_TRUE(added.err.starts_with("token tok_")) << added.err;
  const std::string id = added.err.substr(6, added.err.find(' ', 6) - 6);  // "token <id> (..."

  // A name longer than the others still leaves its columns apart.
  ASSERT_EQ(
      Custody("token add --role operator --name 'a rather long name for a token' --db " + db())
          .code,
      0);
  const Outcome listed = Custody("token list --db " + db());
  EXPECT_EQ(listed.code, 0);
  EXPECT_NE(listed.out.find("a rather long name for a token  20"), std::string::npos) << listed.out;
  // Names are UTF-8: columns line up by characters, not bytes.
  ASSERT_EQ(Custody("token add --role operator --name 'Zo\xc3\xab \xe2\x82\xac' --db " + db()).code,
            0);
  std::istringstream rows(Custody("token list --db " + db()).out);
  std::set<std::size_t> created_at;  // the character column where CREATED starts, per row
  for (std::string row; std::getline(rows, row);) {
    if (row.find("  20") == std::string::npos) continue;  // the header
    const std::string before = row.substr(0, row.find("  20"));
    created_at.insert(std::count_if(before.begin(), before.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
  }
  EXPECT_EQ(created_at.size(), 1u);
  EXPECT_NE(listed.out.find(id), std::string::npos);
  EXPECT_NE(listed.out.find("reviewer"), std::string::npos);
  EXPECT_EQ(listed.out.find(secret), std::string::npos);
  EXPECT_EQ(Slurp(db()).find(secret), std::string::npos);

  EXPECT_EQ(Custody("token revoke " + id + " --db " + db()).code, 0);
  const Outcome again = Custody("token revoke " + id + " --db " + db());
  EXPECT_EQ(again.code, 0);
  EXPECT_NE(again.out.find("already revoked"), std::string::npos) << again.out;
  EXPECT_EQ(Custody("token revoke tok_nope --db " + db()).code, 2);
  // Listing or revoking never creates a database at a mistaken path.
  const std::string elsewhere = db() + ".absent";
  EXPECT_EQ(Custody("token list --db " + elsewhere).code, 3);
  EXPECT_FALSE(std::filesystem::exists(elsewhere));
  EXPECT_NE(Custody("token list --db " + db()).out.find("Z\n"), std::string::npos);  // revoked at
}

TEST_F(Cli, TokenCommandsDropNothingTheyAreGiven) {
  // An unquoted name with a space: its second word must not vanish.
  const Outcome unquoted =
      Custody("token add --role writer --tenant acme --name my auditor --db " + db());
  EXPECT_EQ(unquoted.code, 2);
  EXPECT_NE(unquoted.err.find("takes no argument 'auditor'"), std::string::npos) << unquoted.err;
  // An empty tenant (an unset shell variable) must not make a token of every tenant.
  const Outcome empty_tenant = Custody("token add --role reviewer --tenant '' --db " + db());
  EXPECT_EQ(empty_tenant.code, 2);
  EXPECT_NE(empty_tenant.err.find("--tenant needs a tenant id"), std::string::npos)
      << empty_tenant.err;
  // The demo revokes its tokens by name: a user's token may not take one.
  EXPECT_EQ(Custody("token add --role operator --name 'demo operator' --db " + db()).code, 2);
  EXPECT_EQ(Custody("token list extra --db " + db()).code, 2);
  EXPECT_EQ(Custody("token list --role operator --db " + db()).code, 2);
  EXPECT_EQ(Custody("token revoke tok_1 --name x --db " + db()).code, 2);
  // A name is one line of text.
  const Outcome two_lines =
      Custody("token add --role operator --name \"$(printf 'x\\ny')\" --db " + db());
  EXPECT_EQ(two_lines.code, 2);
  EXPECT_NE(two_lines.err.find("one line of text"), std::string::npos) << two_lines.err;
  EXPECT_EQ(
      Custody("token add --role operator --name \"$(printf 'x\\342\\200\\250y')\" --db " + db())
          .code,
      2);  // U+2028, a line separator
  const Outcome reversed =
      Custody("token add --role operator --name \"$(printf 'x\342\200\256y')\" --db " + db());
  EXPECT_EQ(reversed.code, 2);  // U+202E, which shows what follows it backwards
  EXPECT_NE(reversed.err.find("hide or reorder text"), std::string::npos) << reversed.err;
  EXPECT_EQ(
      Custody("token add --role operator --name " + std::string(201, 'n') + " --db " + db()).code,
      2);
  // None of them created a token.
  if (std::filesystem::exists(db())) {
    EXPECT_EQ(CountLines(Custody("token list --db " + db()).out), 1);  // the header only
  }
}

TEST_F(Cli, OutputThatCannotBeWrittenIsAStorageFailure) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  EXPECT_EQ(Custody("--help", "", "/dev/full").code, 3);
  for (const std::string command : {"verify", "replay", "export", "token list"}) {
    const Outcome lost = Custody(command + " --db " + db(), "", "/dev/full");
    EXPECT_EQ(lost.code, 3) << command;
    EXPECT_NE(lost.err.find("cannot write"), std::string::npos) << command << ": " << lost.err;
  }
  // Nobody saw the secret: the token is revoked rather than left live and unknown.
  const Outcome lost =
      Custody("token add --role operator --name lost --db " + db(), "", "/dev/full");
  EXPECT_EQ(lost.code, 3);
  EXPECT_NE(lost.err.find("was revoked"), std::string::npos) << lost.err;
  EXPECT_EQ(RevokedColumnOf("lost"), "revoked");
  // The demo's fresh tokens too, and the earlier pair was revoked by the demo itself.
  EXPECT_EQ(Custody("demo --db " + db(), "", "/dev/full").code, 3);
  const std::string listed = Custody("token list --db " + db()).out;
  std::istringstream rows(listed);
  int demo_tokens = 0;
  for (std::string row; std::getline(rows, row);) {
    if (row.find(" demo ") == std::string::npos) continue;
    ++demo_tokens;
    EXPECT_FALSE(row.ends_with("-")) << "live: " << row;
  }
  EXPECT_EQ(demo_tokens, 4) << listed;
}

// A reader that closes its end before custody writes: the write fails with EPIPE, which the
// command handles (exit 3, the unseen token revoked) instead of dying of SIGPIPE.
TEST_F(Cli, AReaderThatWentAwayIsAWriteErrorNotASilentDeath) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  auto piped = [&](const std::string& command) {
    const std::string script = "(sleep 0.5; " + std::string(CUSTODY_BINARY) + " " + command +
                               " --db " + db() + " 2>/dev/null) | (exec 0<&-; sleep 2); " +
                               "exit ${PIPESTATUS[0]}";
    const int status = std::system(("bash -c '" + script + "'").c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(piped("export"), 3);
  EXPECT_EQ(piped("token add --role operator --name piped"), 3);
  EXPECT_EQ(RevokedColumnOf("piped"), "revoked");
}

// An export longer than one import transaction, with a two-event command across the cut:
// transactions end where commands end, so it loads whole.
// Acme's creation as command c-0, then invitations of m2, m3, ... at positions 2, 3, ..., the
// invitation at position p being command `command_of(p)`.
std::vector<Event> Invitations(int last_position,
                               const std::function<std::string(int)>& command_of) {
  Event created = FirstEvent("tenant.created", R"({"tenant":"acme"})");
  created.command_id = "c-0";
  std::vector<Event> events = {created};
  for (int position = 2; position <= last_position; ++position) {
    Event event = created;
    event.position = event.version = position;
    const std::string member = "m" + std::to_string(position);
    event.id = "01a1fdca-0000-7000-8000-" + std::string(12 - std::to_string(position).size(), '0') +
               std::to_string(position);
    event.type = "member.invited";
    event.subject = member;
    event.command_id = command_of(position);
    event.data =
        R"({"email":")" + member + R"(@acme.test","member":")" + member + R"(","role":"user"})";
    events.push_back(event);
  }
  return events;
}

TEST_F(Cli, ImportKeepsACommandsEventsInOneTransaction) {
  // Positions 2k and 2k + 1 are command c-k: 20,000 and 20,001 are one command.
  WriteRehashed(Invitations(20001, [](int p) { return "c-" + std::to_string(p / 2); }),
                "long.ndjson");
  const Outcome imported = Custody("import --db " + db() + " " + dir_.File("long.ndjson"));
  ASSERT_EQ(imported.code, 0) << imported.err;
  EXPECT_NE(imported.out.find("imported 20001 events"), std::string::npos) << imported.out;
  EXPECT_EQ(Custody("export --db " + db()).out, Slurp(dir_.File("long.ndjson")));
  EXPECT_EQ(Custody("verify --db " + db()).code, 0);
}

TEST_F(Cli, ImportRefusesACommandOfMoreEventsThanAnyCommandWrites) {
  const std::string file =
      WriteRehashed(Invitations(66, [](int) { return std::string("c-1"); }), "wide.ndjson");
  const Outcome refused = Custody("import --db " + db() + " " + file);
  EXPECT_EQ(refused.code, 1) << refused.err;
  EXPECT_NE(refused.err.find("line 66: command_id 'c-1' has more than 64 events"),
            std::string::npos)
      << refused.err;
  WriteRehashed(Invitations(65, [](int) { return std::string("c-1"); }), "wide.ndjson");
  EXPECT_EQ(Custody("import --db " + db() + " " + file).code, 0);  // 64 events: taken
  EXPECT_EQ(Custody("verify --db " + db()).code, 0);
}

TEST_F(Cli, AnEmptyDbOrTenantIsAUsageErrorNotTheDefault) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const std::string tokens = Custody("token list --db " + db()).out;
  for (const std::string& command : std::vector<std::string>{
           "verify --db ''", "token add --role operator --db ''", "export --tenant '' --db " + db(),
           "replay --tenant '' --db " + db(), "replay --tenant 'a b' --db " + db()}) {
    const Outcome refused = Custody(command, "CUSTODY_DB=" + db());
    EXPECT_EQ(refused.code, 2) << command;
    EXPECT_TRUE(refused.out.empty()) << command << ": " << refused.out;
  }
  EXPECT_EQ(Custody("token list --db " + db()).out, tokens);
  const Outcome empty_environment = Custody("verify", "CUSTODY_DB=''");
  EXPECT_EQ(empty_environment.code, 2);
  EXPECT_NE(empty_environment.err.find("CUSTODY_DB is set but empty"), std::string::npos)
      << empty_environment.err;
  // A tenant with no events yet at the position asked says so.
  const Outcome early = Custody("replay --tenant globex --until 1 --db " + db());
  EXPECT_EQ(early.code, 2);
  EXPECT_NE(early.err.find("tenant 'globex' did not exist yet as of position 1"), std::string::npos)
      << early.err;
  // One that never was says so.
  const Outcome never = Custody("replay --tenant nobody --until 1 --db " + db());
  EXPECT_EQ(never.code, 2);
  EXPECT_NE(never.err.find("no events for tenant 'nobody' up to position 1"), std::string::npos)
      << never.err;
  // A time says which clock it was read on.
  const Outcome before =
      Custody("replay --tenant globex --until 2000-01-01T00:00:00Z --db " + db());
  EXPECT_EQ(before.code, 2);
  EXPECT_NE(before.err.find("tenant 'globex' did not exist yet as of position 0: no event was "
                            "recorded by 2000-01-01T00:00:00.000Z (recorded_at, not occurred_at)"),
            std::string::npos)
      << before.err;
}

// A history rehashed after an edit is well chained, yet not one the log would take: each of
// these is refused by the first pass, naming the line, before any database is created.
TEST_F(Cli, ImportRefusesAWellChainedHistoryTheLogWouldNotHold) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  std::vector<Event> events;
  std::istringstream lines(Custody("export --db " + db()).out);
  for (std::string line; std::getline(lines, line);) {
    auto event = eventstore::EventFromJson(line);
    ASSERT_TRUE(event.ok()) << event.status().ToString();
    events.push_back(*event);
  }
  ASSERT_GT(events.size(), 40u);
  const std::size_t globex = std::find_if(events.begin(), events.end(),
                                          [](const Event& e) { return e.tenant == "globex"; }) -
                             events.begin();
  ASSERT_LT(globex, events.size());
  // An acme event of a later command, to be given the first command's id.
  ASSERT_FALSE(events[0].command_id.empty());
  std::size_t reuse = 5;
  while (reuse < events.size() &&
         (events[reuse].tenant != "acme" || events[reuse].command_id.empty() ||
          events[reuse].command_id == events[reuse - 1].command_id)) {
    ++reuse;
  }
  ASSERT_LT(reuse, events.size());
  auto first_of_type = [&events](std::string_view type) {
    return static_cast<std::size_t>(
        std::find_if(events.begin(), events.end(),
                     [type](const Event& e) { return e.type == type; }) -
        events.begin());
  };
  const std::size_t step = first_of_type("onboarding.step_completed");
  ASSERT_LT(step, events.size());
  ASSERT_EQ(events[step].data, R"({"member":"carol","step":"get_started"})");
  ASSERT_EQ(events[2].data, R"({"email":"bob@acme.example","member":"bob","role":"admin"})");
  const std::size_t connected = first_of_type("marketo.connected");
  ASSERT_LT(connected, events.size());
  ASSERT_EQ(events[connected].actor, "alice");
  ASSERT_EQ(events[3].type, "member.invited");
  const std::size_t rejected = first_of_type("command.rejected");
  ASSERT_LT(rejected, events.size());
  boost::json::object teleport = boost::json::parse(events[rejected].data).as_object();
  teleport["command"] = "teleport";
  struct Forgery {
    std::string problem;
    std::size_t line;  // 1-based
    std::function<void(std::vector<Event>&)> edit;
  };
  ASSERT_EQ(events[2].format, 2);
  const std::vector<Forgery> forgeries = {
      {"tenant.created names tenant 'other'", 1,
       [](auto& e) { e[0].data = R"({"tenant":"other"})"; }},
      {"source.token is not a token id", 3, [](auto& e) { e[2].source.token = "cst_abc"; }},
      {"format goes back from 2", 6, [](auto& e) { e[5].format = 1; }},
      {"is not a UUID", 4, [](auto& e) { e[3].id = "not-a-uuid"; }},
      {"is another event's too", 5, [](auto& e) { e[4].id = e[1].id; }},
      {"recorded_at is earlier", 6, [](auto& e) { e[5].recorded_at = e[4].recorded_at - 1; }},
      {"is not a stream of tenant 'globex'", 10, [](auto& e) { e[9].tenant = "globex"; }},
      {"was used before in tenant 'acme'", reuse + 1,
       [reuse](auto& e) { e[reuse].command_id = e[0].command_id; }},
      // Payloads the API would never have written, well chained all the same.
      {"role 'owner' is neither admin nor user", 3,
       [](auto& e) {
         e[2].data = R"({"email":"bob@acme.example","member":"bob","role":"owner"})";
       }},
      {"email 'bob.acme.example' is not an e-mail address", 3,
       [](auto& e) {
         e[2].data = R"({"email":"bob.acme.example","member":"bob","role":"admin"})";
       }},
      {"command.rejected of 'teleport', which is no command", rejected + 1,
       [rejected, &teleport](auto& e) { e[rejected].data = boost::json::serialize(teleport); }},
      {"member.invited about 'bob' with subject 'carol'", 3,
       [](auto& e) { e[2].subject = "carol"; }},
      {"marketo.connected of 'alice' with actor 'bob'", connected + 1,
       [connected](auto& e) { e[connected].actor = "bob"; }},
      {"command_id is more than 128 bytes or holds a control character", 3,
       [](auto& e) { e[2].command_id = "demo\n2"; }},
      {"its events are not those of one command", 4,
       [](auto& e) { e[3].command_id = e[2].command_id; }},  // its correlation stays demo-3
      {"actor 'a b/c' is no id", 3, [](auto& e) { e[2].actor = "a b/c"; }},
      {"tenant.created is not the first event of its tenant's instance stream", 3,
       [](auto& e) {
         e[2].type = "tenant.created";
         e[2].data = R"({"tenant":"acme"})";
       }},
      {"an event of tenant 'globex' before its tenant.created", globex + 1,
       [globex](auto& e) {
         e[globex].type = "member.removed";
         e[globex].data = R"({"member":"alice"})";
       }},
      {"is not a step the API takes", step + 1,
       [step](auto& e) { e[step].data = R"({"member":"carol","step":"teleport"})"; }},
      {"is not a step the API takes", step + 1,
       [step](auto& e) {
         e[step].data = R"({"api_enabled":true,"member":"carol","step":"get_started"})";
       }},
      {"onboarding.step_completed in stream acme/onboarding/carol, not in acme/onboarding/dave",
       step + 1, [step](auto& e) { e[step].actor = "dave"; }},
      {"no event is recorded in the future", events.size(),
       [](auto& e) {
         using namespace std::chrono;
         e.back().recorded_at =
             duration_cast<milliseconds>((system_clock::now() + hours(48)).time_since_epoch())
                 .count();
       }},
      {"is no tenant id", globex + 1,
       [globex](auto& e) {
         for (std::size_t i = globex; i < e.size(); ++i) {
           if (e[i].tenant != "globex") continue;
           e[i].tenant = "glo bex";
           e[i].stream.replace(0, 6, "glo bex");
         }
       }},
  };
  for (const Forgery& forgery : forgeries) {
    std::vector<Event> forged = events;
    forgery.edit(forged);
    WriteRehashed(forged, "forged.ndjson");
    const std::string copy = dir_.File("copy.db");
    const Outcome refused = Custody("import --db " + copy + " " + dir_.File("forged.ndjson"));
    EXPECT_EQ(refused.code, 1) << forgery.problem << ": " << refused.err;
    EXPECT_NE(refused.err.find("line " + std::to_string(forgery.line) + ":"), std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find(forgery.problem), std::string::npos) << refused.err;
    EXPECT_FALSE(std::filesystem::exists(copy)) << forgery.problem;
  }
  // Earlier versions took e-mails with C1 controls or line separators, which the API now
  // refuses: histories holding them still import.
  std::vector<Event> older = events;
  older[2].data =
      "{\"email\":\"b\u0085ob\u2028@acme.example\",\"member\":\"bob\",\"role\":\"admin\"}";
  const Outcome imported =
      Custody("import --db " + dir_.File("older.db") + " " + WriteRehashed(older, "forged.ndjson"));
  EXPECT_EQ(imported.code, 0) << imported.err;
  const Outcome missing = Custody("import --db " + dir_.File("copy.db") + " nowhere.ndjson");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("'nowhere.ndjson' does not exist"), std::string::npos) << missing.err;
}

TEST_F(Cli, ExportRefusesATenantThatIsNoTenantId) {
  ASSERT_EQ(Custody("demo --db " + db()).code, 0);
  const Outcome bad = Custody("export --tenant bad/x --db " + db());
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("is no tenant id"), std::string::npos) << bad.err;
  EXPECT_TRUE(bad.out.empty());
  // A tenant the log does not hold is a mistaken name too, in either format.
  for (const char* format : {"ndjson", "csv"}) {
    const Outcome unknown =
        Custody(std::string("export --format ") + format + " --tenant nosuch --db " + db());
    EXPECT_EQ(unknown.code, 2) << format;
    EXPECT_NE(unknown.err.find("no events for tenant 'nosuch'"), std::string::npos) << unknown.err;
    EXPECT_TRUE(unknown.out.empty()) << unknown.out;
  }
}

TEST_F(Cli, NotACustodyDatabaseIsAStorageError) {
  std::ofstream(dir_.File("junk.db")) << "this is not a database, just text long enough to matter";
  const Outcome verify = Custody("verify --db " + dir_.File("junk.db"));
  EXPECT_EQ(verify.code, 3);
  EXPECT_FALSE(verify.err.empty());
}

}  // namespace
}  // namespace custody::testing
