#pragma once

// The plain SQLite programs custody is compared with: no custody code, the SQLite C API only.

#include <cstdint>
#include <string>
#include <vector>

#include "domain/event.h"

namespace custody::bench {

struct PlainResult {
  bool ok = false;
  std::string error;
  std::int64_t events = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;  // per commit (ceiling only)
};

// custody's five query indexes (tenant, type, actor, subject, occurred_at): not at all, kept
// up while inserting, or built by sorting once the rows are in (what custody's import does).
enum class QueryIndexes { kNone, kWhileInserting, kBuiltAfter };

// Inserts `events` into a lean event table (position as rowid, one unique (stream, version)
// index, hashes as 32-byte blobs) in transactions of `batch` rows: WAL, synchronous=FULL.
// Timed up to the closed file. The query indexes show how much of custody's cost is indexing
// rather than its own work.
PlainResult PlainBulkInsert(const std::string& path, const std::vector<Event>& events,
                            std::size_t batch, QueryIndexes query_indexes = QueryIndexes::kNone);

// One durable transaction per row (WAL, synchronous=FULL) for `seconds`, rows taken from
// `sample` in turn: the ceiling of one durable commit per event.
PlainResult PlainCommitCeiling(const std::string& path, const std::vector<Event>& sample,
                               double seconds);

// Reads every column of every row of custody's events table, in position order.
PlainResult PlainScan(const std::string& path);

}  // namespace custody::bench
