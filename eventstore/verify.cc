// Walks the whole chain. Rows are read straight from the statement into an EventView (no Event
// copies), so the cost is essentially SQLite's row decoding plus one SHA-256 per event.
//
// Large logs are split into position ranges checked in parallel, each on its own connection.
// Every check is local to one row and the row before it (position p follows p - 1, prev_hash(p)
// is the stored hash(p - 1), hash(p) is SHA-256(prev_hash(p) || bytes(p)), versions and
// recorded_at follow their predecessors), so checking each range and then the seams between
// ranges finds exactly the first bad position a single pass would. The log is append-only, so
// positions up to the head read at the start are the same on every connection.
//
// The commands table (the index of command ids) is outside the chain. Each range also sums a
// fingerprint of every (tenant, command_id, position) its events hold, and the table's rows
// are summed the same way: the two sums agree only if the rows name exactly the events that
// carry each command id (CommandSum).

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>
#include <unordered_map>

#include "domain/utf8.h"
#include "eventstore/encoding.h"
#include "eventstore/random.h"
#include "eventstore/reads.h"
#include "eventstore/rows.h"
#include "eventstore/schema.h"
#include "eventstore/siphash.h"

namespace custody::eventstore {
namespace {

// Below this many events per thread, more threads cost more than they save.
constexpr std::int64_t kMinEventsPerThread = 50000;
constexpr unsigned kMaxThreads = 4;

// A sum, modulo 2^64, of a keyed fingerprint of each (tenant, command_id, position): equal sums
// mean equal sets, but for a chance of about 2^-63, as the key is fresh and secret (a multiset
// hash built on a pseudorandom function). The order of adding does not matter.
class CommandSum {
 public:
  explicit CommandSum(const SipKey& key) : key_(key) {}

  void Add(std::string_view tenant, std::string_view command_id, std::int64_t position) {
    bytes_.clear();
    // Each part's length first, so that no two triples give the same bytes.
    for (const std::string_view part : {tenant, command_id}) {
      AppendWord(static_cast<std::uint64_t>(part.size()));
      bytes_.append(part);
    }
    AppendWord(static_cast<std::uint64_t>(position));
    sum_ += SipHash24(key_, bytes_);
  }
  std::uint64_t value() const { return sum_; }

 private:
  void AppendWord(std::uint64_t word) {
    for (int i = 0; i < 8; ++i) bytes_.push_back(static_cast<char>(word >> (8 * i)));
  }

  SipKey key_;
  std::string bytes_;
  std::uint64_t sum_ = 0;
};

bool SameBytes(std::string_view stored, const Digest& digest) {
  return stored.size() == digest.size() &&
         std::equal(stored.begin(), stored.end(), reinterpret_cast<const char*>(digest.data()));
}

bool ToDigest(std::string_view stored, Digest* out) {
  if (stored.size() != out->size()) return false;
  std::copy(stored.begin(), stored.end(), reinterpret_cast<char*>(out->data()));
  return true;
}

struct Failure {
  std::int64_t position = 0;
  std::string problem;
};

// A stream's first and last event within one range.
struct StreamSpan {
  std::int64_t first_position = 0;
  std::int64_t first_version = 0;
  std::int64_t last_version = 0;
};

struct RangeReport {
  Status status;
  std::optional<Failure> failure;  // the first one inside the range
  std::string first_prev_hash;     // stored prev_hash of the range's first row
  Digest last_hash{};              // stored (and checked) hash of its last good row
  TimeMs first_recorded_at = 0;
  TimeMs last_recorded_at = 0;
  std::unordered_map<std::int64_t, StreamSpan> streams;  // by stream id
  std::uint64_t command_sum = 0;  // CommandSum of the events holding a command id
};

// Checks positions first..last; the links to position first - 1 are left to the caller.
void CheckRange(Database& db, std::int64_t first, std::int64_t last, const SipKey& key,
                RangeReport* out) {
  CommandSum commands(key);
  Statement s = db.GetCachedStatement(
      "SELECT position, stream_id, version, recorded_at, occurred_at, format, prev_hash, hash, "
      "id, type, tenant, actor, subject, command_id, correlation_id, source_ip, "
      "source_user_agent, data, source_token FROM events WHERE position BETWEEN ? AND ? ORDER BY "
      "position");
  s.BindInt64(0, first);
  s.BindInt64(1, last);
  StreamNames names(db);
  std::int64_t expected = first;
  std::string bytes;
  char prev_hex[64];
  auto fail = [out](std::int64_t position, std::string problem) {
    out->failure = Failure{position, std::move(problem)};
  };
  while (s.Step()) {
    EventView e;
    e.position = s.ColumnInt64(0);
    if (e.position != expected) {
      return fail(expected, "position " + std::to_string(expected) + " is missing (found " +
                                std::to_string(e.position) + ")");
    }
    const std::string_view prev_hash = s.ColumnBlob(6);
    Digest prev;
    if (expected == first) {
      out->first_prev_hash = std::string(prev_hash);
    } else if (!SameBytes(prev_hash, out->last_hash)) {
      return fail(expected, "prev_hash is not the hash of the previous position");
    }
    if (!ToDigest(prev_hash, &prev)) return fail(expected, "prev_hash is not 32 bytes");
    ToHex(prev, prev_hex);
    e.prev_hash = std::string_view(prev_hex, sizeof prev_hex);
    const std::int64_t stream_id = s.ColumnInt64(1);
    e.version = s.ColumnInt64(2);
    e.recorded_at = s.ColumnInt64(3);
    e.occurred_at = s.ColumnInt64(4);
    e.format = s.ColumnInt64(5);
    if (!IsKnownEventFormat(e.format)) {
      return fail(expected, "format " + std::to_string(e.format) + " is not supported");
    }
    if (expected == first) {
      out->first_recorded_at = e.recorded_at;
    } else if (e.recorded_at < out->last_recorded_at) {
      return fail(expected, "recorded_at is earlier than the previous event's");
    }
    auto [span, is_new] = out->streams.try_emplace(stream_id, StreamSpan{expected, e.version, 0});
    if (!is_new && e.version != span->second.last_version + 1) {
      return fail(expected, "version " + std::to_string(e.version) + " follows version " +
                                std::to_string(span->second.last_version) + " of its stream");
    }
    Result<std::string_view> stream = names.Get(stream_id);
    if (!stream.ok()) {
      if (stream.status().code() != Status::Code::kCorruption) {
        out->status = stream.status();
        return;
      }
      return fail(expected, stream.status().message());
    }
    e.stream = *stream;
    e.id = s.ColumnText(8);
    e.type = s.ColumnText(9);
    e.tenant = s.ColumnText(10);
    e.actor = s.ColumnText(11);
    e.subject = s.ColumnText(12);
    e.command_id = s.ColumnText(13);
    e.correlation_id = s.ColumnText(14);
    e.source_ip = s.ColumnText(15);
    e.source_user_agent = s.ColumnText(16);
    e.data = s.ColumnText(17);
    e.source_token = s.ColumnText(18);
    if (!HasSourceToken(e.format) && !e.source_token.empty()) {
      return fail(expected,
                  "source_token is set on a format 1 event, whose hash does not cover it");
    }
    bytes.clear();
    AppendCanonicalBytes(bytes, e);
    Digest hash;
    if (!Sha256(bytes, &hash)) {
      out->status = Status::IOError("SHA-256 failed");
      return;
    }
    if (!SameBytes(s.ColumnBlob(7), hash)) {
      return fail(expected, "hash does not match the event's content");
    }
    if (!e.command_id.empty()) commands.Add(e.tenant, e.command_id, e.position);
    out->last_hash = hash;
    out->last_recorded_at = e.recorded_at;
    span->second.last_version = e.version;
    ++expected;
  }
  out->command_sum = commands.value();
  if (!s.Succeeded()) {
    out->status = s.status();
  } else if (expected <= last) {
    fail(expected, "position " + std::to_string(expected) + " is missing");
  }
}

// Checks a range on a connection of its own, in its own read transaction.
void CheckRangeOnNewConnection(const std::string& path, std::int64_t first, std::int64_t last,
                               const SipKey& key, RangeReport* out) {
  Result<std::unique_ptr<Database>> db =
      OpenCustodyDatabase(path, OpenOptions{Database::Mode::kReadOnly, true});
  if (!db.ok()) {
    out->status = db.status();
    return;
  }
  Transaction snapshot(db->get());
  out->status = snapshot.BeginRead();
  if (out->status.ok()) CheckRange(**db, first, last, key, out);
}

// The first failure of the whole log, given each range's report (in position order).
std::optional<Failure> Merge(const std::vector<std::pair<std::int64_t, std::int64_t>>& ranges,
                             const std::vector<RangeReport>& reports) {
  std::optional<Failure> first;
  auto consider = [&first](std::int64_t position, std::string problem) {
    if (!first || position < first->position) first = Failure{position, std::move(problem)};
  };
  std::unordered_map<std::int64_t, std::int64_t> versions;  // stream id → last version
  for (std::size_t k = 0; k < reports.size(); ++k) {
    const RangeReport& report = reports[k];
    const std::int64_t start = ranges[k].first;
    if (report.failure) consider(report.failure->position, report.failure->problem);
    if (report.failure && report.failure->position == start) break;
    if (k == 0) {
      if (!SameBytes(report.first_prev_hash, Digest{}))
        consider(start, "prev_hash is not 64 zeros");
    } else {
      if (!SameBytes(report.first_prev_hash, reports[k - 1].last_hash)) {
        consider(start, "prev_hash is not the hash of the previous position");
      }
      if (report.first_recorded_at < reports[k - 1].last_recorded_at) {
        consider(start, "recorded_at is earlier than the previous event's");
      }
    }
    for (const auto& [stream, span] : report.streams) {
      std::int64_t& version = versions[stream];
      if (span.first_version != version + 1) {
        consider(span.first_position, "version " + std::to_string(span.first_version) +
                                          " follows version " + std::to_string(version) +
                                          " of its stream");
      }
      version = span.last_version;
    }
    if (report.failure) break;  // later ranges can only fail later
  }
  return first;
}

// The head to check up to: position and hash of the last event, in a read transaction that
// ends before the check starts.
Result<VerifyReport> ReadChainHead(Database& db) {
  Transaction snapshot(&db);
  if (Status status = snapshot.BeginRead(); !status.ok()) return status;
  VerifyReport report;
  report.head_hash = ToHex(Digest{});
  Statement head =
      db.GetCachedStatement("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1");
  if (head.Step()) {
    report.head_position = head.ColumnInt64(0);
    report.head_hash = BytesToHex(head.ColumnBlob(1));
  }
  if (!head.Succeeded()) return head.status();
  return report;
}

// Positions 1..head cut into `parts` ranges of about the same size, or into ranges of `chunk`.
std::vector<std::pair<std::int64_t, std::int64_t>> Ranges(std::int64_t head, std::int64_t parts,
                                                          std::int64_t chunk) {
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  if (chunk > 0) {
    for (std::int64_t first = 1; first <= head; first += chunk) {
      ranges.emplace_back(first, std::min(head, first + chunk - 1));
    }
    return ranges;
  }
  for (std::int64_t k = 0; k < parts; ++k) {
    ranges.emplace_back(1 + head * k / parts, head * (k + 1) / parts);
  }
  return ranges;
}

// Checks the ranges in parallel, each but the first on a connection of its own, all inside
// the read transaction `db` holds.
void CheckInParallel(Database& db, const std::vector<std::pair<std::int64_t, std::int64_t>>& ranges,
                     const SipKey& key, std::vector<RangeReport>& reports) {
  std::vector<std::thread> workers;
  try {
    for (std::size_t k = 1; k < ranges.size(); ++k) {
      workers.emplace_back(CheckRangeOnNewConnection, db.path(), ranges[k].first, ranges[k].second,
                           std::cref(key), &reports[k]);
    }
  } catch (const std::exception&) {  // no thread to spare: check those ranges here
    for (std::size_t k = workers.size() + 1; k < ranges.size(); ++k) {
      CheckRange(db, ranges[k].first, ranges[k].second, key, &reports[k]);
    }
  }
  CheckRange(db, ranges[0].first, ranges[0].second, key, &reports[0]);
  for (std::thread& worker : workers) worker.join();
}

// Checks the ranges one after the other, each in a read transaction of its own. The log is
// append-only, so positions up to the head read first are the same in every one of them.
Status CheckInTurn(Database& db, const std::vector<std::pair<std::int64_t, std::int64_t>>& ranges,
                   const SipKey& key, std::vector<RangeReport>& reports,
                   const std::atomic<bool>* cancel) {
  for (std::size_t k = 0; k < ranges.size(); ++k) {
    if (cancel != nullptr && cancel->load()) return Status::Busy("the check was stopped");
    Transaction snapshot(&db);
    if (Status status = snapshot.BeginRead(); !status.ok()) return status;
    CheckRange(db, ranges[k].first, ranges[k].second, key, &reports[k]);
    if (reports[k].failure || !reports[k].status.ok()) break;  // later ranges cannot fail first
  }
  return Status::Ok();
}

struct CommandRowsReport {
  Status status;
  std::string problem;    // a row the log cannot have written, for a message; empty if none
  std::uint64_t sum = 0;  // CommandSum of the rows up to the head
};

// Sums the commands table's rows that name events up to `head` into `out`, or says which row
// the log cannot have written. Every row is read, by key, in pages of `page` rows each in a
// read transaction of its own (0: one page), as the chain's chunks are, so that a long check
// never holds the WAL back.
Status SumCommandRows(Database& db, std::int64_t head, const SipKey& key, std::int64_t page,
                      const std::atomic<bool>* cancel, CommandRowsReport* out) {
  CommandSum rows(key);
  std::string after_tenant, after_id;
  for (bool first_page = true;; first_page = false) {
    if (cancel != nullptr && cancel->load()) return Status::Busy("the check was stopped");
    Transaction snapshot(&db);
    if (Status status = snapshot.BeginRead(); !status.ok()) return status;
    // The head in this page's view: a row past it names events the log does not hold. Rows
    // past `head` but not past this one are of commands appended since the check began.
    Result<std::int64_t> now = db.QueryInt64("SELECT coalesce(max(position), 0) FROM events");
    if (!now.ok()) return now.status();
    // The first page from the start, the next ones after the last key read (a text key: a key
    // of another type, wherever it sorts, ends the check when it is read).
    static const std::string kRows =
        "SELECT tenant, command_id, first_position, event_count, typeof(tenant) = 'text' AND "
        "typeof(command_id) = 'text' AND typeof(first_position) = 'integer' AND "
        "typeof(event_count) = 'integer' FROM commands ";
    static const std::string kFirstPage = kRows + "ORDER BY tenant, command_id LIMIT ?1";
    static const std::string kNextPage =
        kRows + "WHERE (tenant, command_id) > (?2, ?3) ORDER BY tenant, command_id LIMIT ?1";
    Statement s = db.GetCachedStatement(first_page ? kFirstPage : kNextPage);
    s.BindInt64(0, page > 0 ? page : -1);
    if (!first_page) {
      s.BindText(1, after_tenant);
      s.BindText(2, after_id);
    }
    std::int64_t read = 0;
    while (s.Step()) {
      ++read;
      after_tenant = s.ColumnText(0);
      after_id = s.ColumnText(1);
      const CommandRow row{s.ColumnInt64(2), s.ColumnInt64(3)};
      const std::int64_t first = row.first_position;
      const std::int64_t count = row.event_count;
      // A key stored as a blob would hide the row from the lookup of its command id.
      if (s.ColumnInt64(4) == 0 || !CommandRowFits(row, *now)) {
        std::string id = after_id;  // a terminal or a log shows it: no control characters
        std::replace_if(id.begin(), id.end(), IsAsciiControl, '?');
        out->problem = "the commands table's row for command '" + id + "' names " +
                       std::to_string(count) + " events from position " + std::to_string(first) +
                       ", which the log (head " + std::to_string(*now) +
                       ") does not hold as one command's: a row was altered or added, or events "
                       "were removed from the log's end";
        return Status::Ok();
      }
      if (first > head) continue;
      for (std::int64_t position = first; position < first + count; ++position) {
        rows.Add(after_tenant, after_id, position);
      }
    }
    if (!s.Succeeded()) return s.status();
    if (page <= 0 || read < page) break;
  }
  out->sum = rows.value();
  return Status::Ok();
}

// The same on a connection of its own, beside the ranges.
void SumCommandRowsOnNewConnection(const std::string& path, std::int64_t head, const SipKey& key,
                                   CommandRowsReport* out) {
  Result<std::unique_ptr<Database>> db =
      OpenCustodyDatabase(path, OpenOptions{Database::Mode::kReadOnly, true});
  if (!db.ok()) {
    out->status = db.status();
    return;
  }
  out->status = SumCommandRows(**db, head, key, 0, nullptr, out);
}

}  // namespace

Result<VerifyReport> VerifyChain(Database& db, const VerifyOptions& options) {
  Result<VerifyReport> read = ReadChainHead(db);
  if (!read.ok()) return read.status();
  VerifyReport report = std::move(read).value();
  if (report.head_position == 0) return report;

  const std::int64_t head = report.head_position;
  std::int64_t parts = options.threads;
  if (parts <= 0) {
    const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
    parts =
        std::clamp<std::int64_t>(head / kMinEventsPerThread, 1, std::min(hardware, kMaxThreads));
  }
  const auto ranges = Ranges(head, std::min(parts, head), options.chunk);
  SipKey key{};
  if (Status status = RandomBytes(key.data(), sizeof key); !status.ok()) return status;
  std::vector<RangeReport> reports(ranges.size());
  CommandRowsReport rows;
  bool rows_read = false;  // beside the ranges
  if (options.chunk > 0) {
    if (Status status = CheckInTurn(db, ranges, key, reports, options.cancel); !status.ok()) {
      return status;
    }
  } else {
    // The commands table is read beside the ranges, on a connection of its own.
    std::thread reader;
    try {
      reader = std::thread(SumCommandRowsOnNewConnection, db.path(), head, std::cref(key), &rows);
      rows_read = true;
    } catch (const std::exception&) {  // no thread to spare: read it after the ranges
    }
    {
      Transaction snapshot(&db);  // one consistent view of the log, however long the walk
      Status status = snapshot.BeginRead();
      if (status.ok()) CheckInParallel(db, ranges, key, reports);
      if (reader.joinable()) reader.join();
      if (!status.ok()) return status;
    }
  }
  for (const RangeReport& range : reports) {
    if (!range.status.ok()) return range.status;
  }

  std::optional<Failure> failure = Merge(ranges, reports);
  report.events = failure ? failure->position : head;
  if (failure) {
    report.ok = false;
    report.first_bad_position = failure->position;
    report.problem = std::move(failure->problem);
    return report;
  }
  // The events check out: the index of their command ids must name exactly them.
  if (!rows_read) rows.status = SumCommandRows(db, head, key, options.chunk, options.cancel, &rows);
  if (!rows.status.ok()) return rows.status;
  std::uint64_t events_sum = 0;
  for (const RangeReport& range : reports) events_sum += range.command_sum;
  if (rows.problem.empty() && rows.sum != events_sum) {
    rows.problem =
        "the commands table does not name exactly the events that carry each command id (a row "
        "was altered, added or removed)";
  }
  if (!rows.problem.empty()) {
    report.ok = false;
    report.commands_altered = true;
    report.problem = std::move(rows.problem);
  }
  return report;
}

}  // namespace custody::eventstore
