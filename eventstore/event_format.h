#pragma once

// The event's byte encodings: the canonical bytes the hash chain covers, the served JSON
// (API, NDJSON export, replay output) and CSV rows. docs/STORAGE.md describes them for
// verifiers outside this project.

#include <string>
#include <string_view>

#include "domain/event.h"
#include "domain/status.h"

namespace custody::eventstore {

inline constexpr char kGenesisHash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Canonical JSON of every field but hash (keys sorted, no white space): the event as served,
// without its hash, in canonical form.
std::string CanonicalEventBytes(const Event& event);

// SHA-256 over CanonicalEventBytes of `event` with its prev_hash set to `prev_hash_hex`, as 64
// lower-case hex digits. Empty when prev_hash_hex is not 64 lower-case hex digits (an empty
// string never equals a stored hash, so a malformed chain fails verification).
std::string ChainHash(std::string_view prev_hash_hex, const Event& event);

// The event as served: one JSON object, no new line.
std::string EventToJson(const Event& event);
// Parses one EventToJson object (one NDJSON line). Every field is required; unknown fields
// and malformed values are errors naming the field.
Result<Event> EventFromJson(std::string_view json);

// CSV (RFC 4180): the header row and one row per event, each ending in CRLF.
std::string EventCsvHeader();
std::string EventToCsvRow(const Event& event);

}  // namespace custody::eventstore
