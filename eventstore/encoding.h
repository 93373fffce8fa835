#pragma once

// Internal building blocks of the event encodings (event_format.h): the canonical bytes over
// borrowed fields, SHA-256 of the chain, hex and time text. Hot paths (append, verify, import)
// use these directly to avoid copying rows into Event objects.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

#include "domain/event.h"
#include "domain/status.h"
#include "domain/time.h"
#include "domain/utf8.h"

namespace custody::eventstore {

using Digest = std::array<unsigned char, 32>;

// The fields CanonicalEventBytes covers, borrowed from an Event or a database row.
struct EventView {
  std::int64_t position = 0;
  std::string_view prev_hash;  // 64 lower-case hex digits
  std::string_view id;
  std::string_view stream;
  std::int64_t version = 0;
  std::string_view type;
  std::string_view tenant;
  std::string_view actor;
  std::string_view subject;
  TimeMs occurred_at = 0;
  TimeMs recorded_at = 0;
  std::string_view command_id;
  std::string_view correlation_id;
  std::string_view source_ip;
  std::string_view source_user_agent;
  std::string_view source_token;  // format 2 and later
  std::string_view data;
  std::int64_t format = kEventFormat;
};

EventView ViewOf(const Event& event);

// Appends the canonical bytes (docs/STORAGE.md) to `out`.
void AppendCanonicalBytes(std::string& out, const EventView& event);

// SHA-256(bytes): an event's hash is the digest of its canonical bytes, which include its
// prev_hash. False only if the crypto library fails.
bool Sha256(std::string_view bytes, Digest* out);

std::string ToHex(const Digest& digest);
// Writes the 64 hex digits of `digest` at `out`, without allocating.
void ToHex(const Digest& digest, char* out);
// Decodes 64 lower-case hex digits; false for anything else.
bool FromHex(std::string_view hex, Digest* out);

// Appends FormatTime(time) without going through printf (verify formats two times per event).
void AppendTime(std::string& out, TimeMs time);

// Parses a JSON object and returns its canonical text. Refuses what the canonical encoding
// cannot carry the same way in every language: non-objects, floating-point numbers, invalid
// UTF-8. `field` names the value in error messages. kInvalidArgument on error.
Result<std::string> CanonicalObject(std::string_view json, std::string_view field);
// The same for an already parsed value.
Result<std::string> CanonicalObject(const boost::json::value& value, std::string_view field);

}  // namespace custody::eventstore
