// custody verify, export and import: the history as a whole.

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <boost/json.hpp>

#include "domain/command_codec.h"
#include "domain/events.h"
#include "domain/utf8.h"
#include "eventstore/event_format.h"
#include "eventstore/event_store.h"
#include "eventstore/rows.h"
#include "eventstore/token_store.h"
#include "projections/snapshot_check.h"
#include "server/app.h"
#include "server/cli/cli.h"

namespace custody::cli {
namespace {

namespace po = boost::program_options;

Result<std::unique_ptr<eventstore::EventStore>> OpenForReading(const std::string& db) {
  return eventstore::EventStore::OpenReadOnly(db);
}

}  // namespace

int RunVerify(const Args& args) {
  std::string db;
  po::options_description options("custody verify");
  AddDbOption(options, &db);
  po::variables_map values;
  if (int code = Parse(args, "custody verify [--db PATH]", options, {}, values); code >= 0) {
    return code;
  }
  auto store = OpenForReading(ResolveDb(db));
  if (!store.ok()) return StorageFailure(store.status());
  auto report = (*store)->Verify();
  if (!report.ok()) return StorageFailure(report.status());
  std::optional<projections::SnapshotCheck> snapshot;
  if (report->ok || report->commands_altered) {  // a chain that fails is reported alone
    auto checked = projections::CheckSnapshot(**store);
    if (!checked.ok()) return StorageFailure(checked.status());
    snapshot = *checked;
  }
  const projections::Integrity integrity = projections::Judge(*report, snapshot);
  if (integrity.first_bad_position) {
    std::cout << "altered: first bad position " << *integrity.first_bad_position << ": "
              << integrity.problem << " (" << report->events << " events checked)\n";
    return kCheckFailed;
  }
  if (!integrity.ok) {
    std::cout << "altered: " << integrity.problem
              << " (the log itself checks out: " << report->events << " events, head hash "
              << report->head_hash << ")\n";
    return kCheckFailed;
  }
  std::cout << "ok: " << report->events << " events checked; head position "
            << report->head_position << ", hash " << report->head_hash << "\n";
  return kDone;
}

int RunExport(const Args& args) {
  std::string db, format = "ndjson", tenant;
  po::options_description options("custody export");
  AddDbOption(options, &db);
  options.add_options()("format", po::value(&format)->value_name("ndjson|csv"),
                        "output format (default ndjson)")(
      "tenant", po::value(&tenant)->value_name("T"), "only this tenant's events");
  po::variables_map values;
  if (int code = Parse(args, "custody export [--db PATH] [--format ndjson|csv] [--tenant T]",
                       options, {}, values);
      code >= 0) {
    return code;
  }
  if (format != "ndjson" && format != "csv") {
    return Fail(kUsage, "--format must be ndjson or csv, not '" + format + "'");
  }
  if (int code = CheckTenantOption(values, tenant); code >= 0) return code;
  auto store = OpenForReading(ResolveDb(db));
  if (!store.ok()) return StorageFailure(store.status());

  eventstore::Filter filter;
  filter.tenant = tenant;
  // A tenant with no events is a mistaken name (every tenant starts with tenant.created), as
  // for `custody replay --tenant`; an empty export would pass for a tenant without history.
  if (!tenant.empty()) {
    Result<eventstore::Page> first = (*store)->Query(filter, 1);
    if (!first.ok()) return StorageFailure(first.status());
    if (first->events.empty()) return Fail(kUsage, "no events for tenant '" + tenant + "'");
  }
  std::ios::sync_with_stdio(false);
  if (format == "csv") std::cout << eventstore::EventCsvHeader();
  const Status scanned = (*store)->Scan(filter, [&](const Event& event) {
    std::cout << (format == "csv" ? eventstore::EventToCsvRow(event)
                                  : eventstore::EventToJson(event) + "\n");
    return bool(std::cout);
  });
  std::cout.flush();
  if (!scanned.ok()) return StorageFailure(scanned);
  if (!std::cout) return Fail(kStorage, "cannot write to standard output");
  return kDone;
}

namespace {

// Reads an NDJSON export line by line, giving each parsed event with its line number.
// Returns a message naming the first bad line, or an empty string.
std::string ReadExport(std::istream& in,
                       const std::function<std::string(const Event&, std::size_t)>& take) {
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank, as JSON's space
    auto event = eventstore::EventFromJson(line);
    if (!event.ok()) return "line " + std::to_string(number) + ": " + event.status().message();
    if (std::string problem = take(*event, number); !problem.empty()) {
      return "line " + std::to_string(number) + ": " + problem;
    }
  }
  return in.bad() ? "cannot read the file" : "";
}

// How far ahead of this machine's clock the machine that exported a history may have been:
// generous, as import is how a history is restored, perhaps on a host whose clock is behind.
constexpr std::chrono::hours kClockSkew{24};

// Events per transaction of the import, at least: a batch ends where a command ends.
constexpr std::size_t kBatch = 20000;

// The command an event belongs to, as (tenant, command_id); empty when it has no command id.
// A batch never ends between two events of one command: EventStore::Import takes whole ones.
std::string CommandKey(const Event& event) {
  return event.command_id.empty() ? std::string() : event.tenant + '\n' + event.command_id;
}

// What is wrong with an event's stream name for its tenant, for a message; empty when it is
// one of the tenant's streams: "{tenant}/instance" or "{tenant}/onboarding/{member}".
std::string StreamProblem(const Event& event) {
  if (std::string problem = TenantIdProblem(event.tenant); !problem.empty()) return problem;
  if (StreamTenant(event.stream) == std::string_view(event.tenant)) return "";
  return "stream '" + event.stream + "' is not a stream of tenant '" + event.tenant +
         "' ({tenant}/instance or {tenant}/onboarding/{member})";
}

// An ASCII control character: what every version refused in command ids and e-mails (today's
// API also refuses C1 controls and line separators).
bool HasAsciiControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), IsAsciiControl);
}

// What is wrong with an event's command_id or correlation_id, as the API takes them: at most
// 128 bytes, no control character; empty is no command id.
std::string KeyProblem(const Event& event) {
  for (const auto& [name, key] :
       {std::pair<const char*, const std::string*>{"command_id", &event.command_id},
        {"correlation_id", &event.correlation_id}}) {
    if (key->size() > kMaxKeyLength || HasAsciiControl(*key)) {
      return std::string(name) + " is more than " + std::to_string(kMaxKeyLength) +
             " bytes or holds a control character";
    }
  }
  return "";
}

// An e-mail as every version of custody has taken it: today's IsValidEmail also refuses C1
// controls and line separators, which histories written before hold and must still import.
bool IsRecordableEmail(std::string_view email) {
  return HasEmailShape(email) && !HasAsciiControl(email);
}

// What is wrong with an onboarding.step_completed as a step the API would have taken: its data
// is the command's fields, as the API's decoder reads them, with the member as the actor.
std::string StepProblem(const Event& event) {
  boost::system::error_code error;
  boost::json::value data = boost::json::parse(event.data, error);
  if (error || !data.is_object()) return "onboarding.step_completed: data is not an object";
  boost::json::object& fields = data.as_object();
  fields.erase("member");
  // E-mails by the rule of every version; the decoder judges the rest (a stand-in it accepts).
  for (const char* key : {"email", "sales_email", "salesforce_email"}) {
    boost::json::value* email = fields.if_contains(key);
    if (email == nullptr || !email->is_string()) continue;
    if (!IsRecordableEmail(email->get_string())) {
      return std::string(key) + " '" + std::string(email->get_string()) +
             "' is not an e-mail address";
    }
    *email = "member@example.com";
  }
  fields["command"] = commands::OnboardingStep::kName;
  fields["actor"] = event.actor;
  const auto decoded = DecodeCommand(boost::json::serialize(data));
  if (const auto* refused = std::get_if<DecodeError>(&decoded)) {
    return "onboarding.step_completed is not a step the API takes: " + refused->message;
  }
  return "";
}

// What is wrong with a well-chained event as a fact the API could have written, for a message;
// empty when nothing is. A forger who rehashes can write a role "owner", a step nobody can
// take, a member id with a space, a step in another member's stream or a tenant created
// twice; the projections would serve each as it is. `created` holds the tenants whose
// tenant.created came before; a step's fields are judged by the API's own decoder.
std::string PayloadProblem(const Event& event, const events::Payload& payload,
                           std::unordered_set<std::string>& created) {
  const bool instance = event.stream == InstanceStream(event.tenant);
  const auto* creation = std::get_if<events::TenantCreated>(&payload);
  if (creation != nullptr) {
    if (creation->tenant != event.tenant) {
      return "tenant.created names tenant '" + creation->tenant + "' in a stream of '" +
             event.tenant + "'";
    }
    if (!instance || event.version != 1 || !created.insert(event.tenant).second) {
      return "tenant.created is not the first event of its tenant's instance stream";
    }
  } else if (!created.contains(event.tenant)) {
    return "an event of tenant '" + event.tenant + "' before its tenant.created";
  }
  // A member, or for a tenant's creation a token's id (tok_...; "demo" from the command line).
  if (!IsValidId(event.actor)) return "actor '" + event.actor + "' is no id";
  std::string problem;
  auto check_id = [&problem](std::string_view field, const std::string& id) {
    if (problem.empty() && !IsValidId(id)) {
      problem = std::string(field) + " '" + id + "' is not a member id";
    }
  };
  if (!event.subject.empty()) check_id("subject", event.subject);
  const std::string own_stream = OnboardingStream(event.tenant, event.actor);
  std::visit(
      [&](const auto& fact) {
        using Fact = std::decay_t<decltype(fact)>;
        // Steps, refused ones too, are in their actor's onboarding stream; all else is in the
        // instance stream.
        bool onboarding = false;
        if constexpr (std::is_same_v<Fact, events::StepCompleted>) onboarding = true;
        if constexpr (std::is_same_v<Fact, events::CommandRejected>) {
          onboarding = fact.command == commands::OnboardingStep::kName;
        }
        if (onboarding ? event.stream != own_stream : !instance) {
          problem = std::string(Fact::kType) + " in stream " + event.stream + ", not in " +
                    (onboarding ? own_stream : InstanceStream(event.tenant));
        }
        // Whom each fact is about, as the rules name it (domain/instance.cc), and who acted.
        auto check_subject = [&](const std::string& about) {
          if (problem.empty() && event.subject != about) {
            problem = std::string(Fact::kType) + " about '" + about + "' with subject '" +
                      event.subject + "'";
          }
        };
        if constexpr (std::is_same_v<Fact, events::MemberInvited> ||
                      std::is_same_v<Fact, events::MemberRemoved> ||
                      std::is_same_v<Fact, events::AccessGranted> ||
                      std::is_same_v<Fact, events::AccessRevoked> ||
                      std::is_same_v<Fact, events::StepCompleted>) {
          check_subject(fact.member);
        } else if constexpr (std::is_same_v<Fact, events::MarketoConnected> ||
                             std::is_same_v<Fact, events::MarketoDisconnected>) {
          check_subject(fact.admin);
        } else if constexpr (std::is_same_v<Fact, events::OwnershipTransferred>) {
          check_subject(fact.to);
        } else if constexpr (std::is_same_v<Fact, events::IntegrationDown>) {
          check_subject(fact.last_admin);
        } else if constexpr (std::is_same_v<Fact, events::CommandRejected>) {
          check_subject(fact.member.value_or(""));
        }
        if constexpr (std::is_same_v<Fact, events::AccessGranted> ||
                      std::is_same_v<Fact, events::AccessRevoked>) {
          if (problem.empty() && fact.by != event.actor) {
            problem =
                std::string(Fact::kType) + " by '" + fact.by + "' with actor '" + event.actor + "'";
          }
        }
        if constexpr (std::is_same_v<Fact, events::MarketoConnected>) {
          if (problem.empty() && fact.admin != event.actor) {
            problem = "marketo.connected of '" + fact.admin + "' with actor '" + event.actor + "'";
          }
        }
        if constexpr (std::is_same_v<Fact, events::MemberInvited>) {
          check_id("member", fact.member);
          if (problem.empty() && !IsRecordableEmail(fact.email)) {
            problem = "email '" + fact.email + "' is not an e-mail address";
          }
          if (problem.empty() && fact.role != "admin" && fact.role != "user") {
            problem = "role '" + fact.role + "' is neither admin nor user";
          }
        } else if constexpr (std::is_same_v<Fact, events::MemberRemoved>) {
          check_id("member", fact.member);
        } else if constexpr (std::is_same_v<Fact, events::MarketoConnected> ||
                             std::is_same_v<Fact, events::MarketoDisconnected>) {
          check_id("admin", fact.admin);
        } else if constexpr (std::is_same_v<Fact, events::OwnershipTransferred>) {
          check_id("from", fact.from);
          check_id("to", fact.to);
        } else if constexpr (std::is_same_v<Fact, events::IntegrationDown>) {
          check_id("last_admin", fact.last_admin);
          for (const std::string& member : fact.cut_off) check_id("cut_off", member);
        } else if constexpr (std::is_same_v<Fact, events::AccessGranted> ||
                             std::is_same_v<Fact, events::AccessRevoked>) {
          check_id("member", fact.member);
          check_id("by", fact.by);
        } else if constexpr (std::is_same_v<Fact, events::StepCompleted>) {
          if (problem.empty() && fact.member != event.actor) {
            problem = "a step of '" + fact.member + "' completed by '" + event.actor + "'";
          }
          if (problem.empty()) problem = StepProblem(event);
        } else if constexpr (std::is_same_v<Fact, events::CommandRejected>) {
          if (!commands::IsCommandName(fact.command) &&
              fact.command != commands::CreateTenant::kName) {
            problem = "command.rejected of '" + fact.command + "', which is no command";
          }
          if (fact.member) check_id("member", *fact.member);
          if (fact.target) check_id("target", *fact.target);
          for (const auto* step : {&fact.step, &fact.expected_step}) {
            if (problem.empty() && *step && !StepFromName(**step)) {
              problem = "step '" + **step + "' is not an onboarding step";
            }
          }
        }
      },
      payload);
  return problem;
}

// An event id as the store writes it, a UUID in lower-case hex (8-4-4-4-12): its 16 bytes.
using Uuid = std::array<unsigned char, 16>;
std::optional<Uuid> ParseUuid(std::string_view id) {
  if (id.size() != 36) return std::nullopt;
  Uuid bytes{};
  std::size_t nibble = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return std::nullopt;
      continue;
    }
    const int value = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (value < 0) return std::nullopt;
    bytes[nibble / 2] |= static_cast<unsigned char>(nibble % 2 == 0 ? value << 4 : value);
    ++nibble;
  }
  return bytes;
}
struct UuidHash {
  std::size_t operator()(const Uuid& uuid) const {
    // A UUIDv7 starts with its time: mix in the random half.
    std::uint64_t time = 0, random = 0;
    std::memcpy(&time, uuid.data(), 8);
    std::memcpy(&random, uuid.data() + 8, 8);
    return static_cast<std::size_t>(time ^ (random * 0x9e3779b97f4a7c15ULL));
  }
};

// First pass: the file must be a whole, unaltered chain from position 1 that the log would
// take as it is, so that a refused file writes nothing. `batch_ends` gets the hash of each
// batch's last event: as each hash covers the one before it, the second pass imports a batch
// only if it ends on the same hash, so it never loads what was not checked.
std::string CheckChain(std::istream& in, std::size_t* count, std::vector<std::string>* batch_ends) {
  std::int64_t position = 0;
  std::string previous = eventstore::kGenesisHash;
  TimeMs last_recorded_at = kMinTime;
  std::int64_t last_format = 1;
  std::map<std::string, std::int64_t> versions;
  // Every (tenant, command_id) met: a command's events are consecutive, so an id met again
  // after another command is a reuse, which the log's key refuses.
  std::unordered_set<std::string> commands;
  std::unordered_set<Uuid, UuidHash> ids;   // 16 bytes each: a million events hold 16 MB of ids
  std::unordered_set<std::string> tenants;  // those whose tenant.created was read
  // The server stamps recorded_at with its clock, never going back: one stamp far ahead would
  // hold every later event's stamp there and hide them from at=TIME.
  const TimeMs now = server::SystemNow();
  const TimeMs latest_recorded_at = now + std::chrono::milliseconds(kClockSkew).count();
  std::string command;         // the key of the command whose events are being read
  Event command_head;          // its first event's envelope
  bool command_alone = false;  // its first event is a refusal or a step
  std::int64_t command_events = 0;
  std::size_t in_batch = 0;  // events since the last batch end
  const std::string problem = ReadExport(in, [&](const Event& event, std::size_t) -> std::string {
    std::string key = CommandKey(event);
    if (in_batch >= kBatch && (key.empty() || key != command)) {
      batch_ends->push_back(previous);
      in_batch = 0;
    }
    if (event.position != position + 1) {
      return "position " + std::to_string(event.position) + " where " +
             std::to_string(position + 1) + " was expected";
    }
    std::int64_t& version = versions[event.stream];
    if (event.version != version + 1) {
      return "stream " + event.stream + " version " + std::to_string(event.version) + " where " +
             std::to_string(version + 1) + " was expected";
    }
    if (event.prev_hash != previous) return "prev_hash does not match the previous event's hash";
    // A well-chained event this version cannot read would stop the projections on start.
    const auto payload = events::DecodeEvent(event);
    if (!payload.ok()) return payload.status().message();
    if (eventstore::ChainHash(previous, event) != event.hash) {
      return "hash does not match the event's content (position " + std::to_string(event.position) +
             ")";
    }
    // Well chained, yet not a history custody writes: a forger can rehash anything. A
    // stream's name holds its tenant, so no stream changes tenant either.
    if (std::string bad = StreamProblem(event); !bad.empty()) return bad;
    const std::optional<Uuid> id = ParseUuid(event.id);
    if (!id) return "id '" + event.id + "' is not a UUID (8-4-4-4-12 lower-case hex digits)";
    if (!ids.insert(*id).second) return "id " + event.id + " is another event's too";
    if (std::string bad = PayloadProblem(event, *payload, tenants); !bad.empty()) return bad;
    if (event.recorded_at > latest_recorded_at) {
      return "recorded_at " + FormatTime(event.recorded_at) + " is more than " +
             std::to_string(kClockSkew.count()) + " hours after this machine's clock (" +
             FormatTime(now) +
             "): no event is recorded in the future (if this clock is wrong, set it first)";
    }
    if (event.recorded_at < last_recorded_at) {
      return "recorded_at is earlier than the previous event's";
    }
    if (event.format < last_format) return "format goes back from " + std::to_string(last_format);
    if (!event.source.token.empty() && !eventstore::IsTokenId(event.source.token)) {
      return "source.token is not a token id (tok_ and 8 hex digits)";
    }
    if (std::string bad = KeyProblem(event); !bad.empty()) return bad;
    if (!key.empty() && key != command && !commands.insert(key).second) {
      return "command_id '" + event.command_id + "' was used before in tenant '" + event.tenant +
             "'";
    }
    // The events of one command are one decision: one stream, actor, time, correlation and
    // source; a refusal or a step is its command's only event.
    const bool alone = std::holds_alternative<events::CommandRejected>(*payload) ||
                       std::holds_alternative<events::StepCompleted>(*payload);
    if (!key.empty() && key == command) {
      if (++command_events > eventstore::kMaxCommandEvents) {
        return "command_id '" + event.command_id + "' has more than " +
               std::to_string(eventstore::kMaxCommandEvents) +
               " events, more than any command writes";
      }
      if (alone || command_alone || event.stream != command_head.stream ||
          event.actor != command_head.actor || event.occurred_at != command_head.occurred_at ||
          event.correlation_id != command_head.correlation_id ||
          event.source != command_head.source) {
        return "command_id '" + event.command_id +
               "': its events are not those of one command (one stream, actor, occurred_at, "
               "correlation and source; a refusal or a step alone)";
      }
    } else if (!key.empty()) {
      command_head.stream = event.stream;
      command_head.actor = event.actor;
      command_head.occurred_at = event.occurred_at;
      command_head.correlation_id = event.correlation_id;
      command_head.source = event.source;
      command_alone = alone;
      command_events = 1;
    }
    command = std::move(key);
    position = event.position;
    version = event.version;
    last_recorded_at = event.recorded_at;
    last_format = event.format;
    previous = event.hash;
    ++*count;
    ++in_batch;
    return "";
  });
  if (problem.empty() && in_batch > 0) batch_ends->push_back(previous);
  return problem;
}

}  // namespace

int RunImport(const Args& args) {
  std::string db, file;
  po::options_description options("custody import");
  AddDbOption(options, &db);
  options.add_options()("file", po::value(&file)->required()->value_name("FILE"),
                        "an NDJSON export (custody export)");
  po::positional_options_description positionals;
  positionals.add("file", 1);
  po::variables_map values;
  if (int code = Parse(args, "custody import [--db PATH] FILE", options, positionals, values);
      code >= 0) {
    return code;
  }
  // The file is read twice, to check it whole and then to load it: a pipe would be empty the
  // second time (and opening a FIFO nobody writes would wait forever).
  std::error_code error;
  const bool exists = std::filesystem::exists(file, error);
  if (error) return Fail(kUsage, "cannot examine '" + file + "': " + error.message());
  if (!exists) return Fail(kUsage, "'" + file + "' does not exist");
  if (!std::filesystem::is_regular_file(file, error)) {
    return Fail(kUsage, "'" + file +
                            "' is not a regular file: import reads its file twice (to check it "
                            "whole, then to load it), so save the export to a file first");
  }
  errno = 0;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return Fail(kUsage, "cannot open '" + file + "'" +
                            (errno != 0 ? std::string(": ") + std::strerror(errno) : ""));
  }

  // Check the whole file before writing anything, so a doctored line imports nothing.
  std::size_t count = 0;
  std::vector<std::string> batch_ends;
  if (std::string problem = CheckChain(in, &count, &batch_ends); !problem.empty()) {
    return Fail(kCheckFailed, "import refused, nothing imported: " + problem);
  }

  auto store = eventstore::EventStore::Open(ResolveDb(db));
  if (!store.ok()) return StorageFailure(store.status());
  if ((*store)->HeadPosition() != 0) {
    return Fail(kCheckFailed, "import needs an empty database; '" + ResolveDb(db) + "' holds " +
                                  std::to_string((*store)->HeadPosition()) + " events");
  }
  in.clear();
  in.seekg(0);
  std::vector<Event> batch;
  std::size_t batches = 0;
  bool changed = false;
  Status imported;
  auto load = [&] {
    changed = batches >= batch_ends.size() || batch.back().hash != batch_ends[batches];
    if (!changed) imported = (*store)->Import(batch);
    ++batches;
    batch.clear();
  };
  const std::string problem = ReadExport(in, [&](const Event& event, std::size_t) {
    // The same cuts as the first pass's batch_ends.
    if (batch.size() >= kBatch &&
        (event.command_id.empty() || CommandKey(event) != CommandKey(batch.back()))) {
      load();
    }
    batch.push_back(event);
    if (changed) return std::string("changed since it was checked");
    return imported.ok() ? std::string() : imported.ToString();
  });
  if (problem.empty() && !batch.empty()) load();
  if (!imported.ok()) {
    const std::int64_t head = (*store)->HeadPosition();
    if (head == 0) return StorageFailure(imported);
    return Fail(kStorage, imported.ToString() + " (the database holds the file's " +
                              std::to_string(head) +
                              " first events, as checked; import again into an empty database)");
  }
  changed = changed || (*store)->HeadPosition() != static_cast<std::int64_t>(count);
  if (changed) {
    return Fail(kStorage, "'" + file + "' changed while it was imported: the database holds its " +
                              std::to_string((*store)->HeadPosition()) +
                              " first events as checked, and nothing after; import again into an "
                              "empty database");
  }
  if (!problem.empty()) return Fail(kStorage, "import stopped: " + problem);
  std::cout << "imported " << count << " events; head position " << (*store)->HeadPosition()
            << "\n";
  return kDone;
}

}  // namespace custody::cli
