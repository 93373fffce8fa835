#pragma once

// The event envelope: one immutable fact as it is stored and served. The envelope is generic;
// what a `type` means and what its `data` holds is defined in domain/events.h.

#include <cstdint>
#include <string>
#include <string_view>

#include "domain/time.h"

namespace custody {

// The version of the canonical encoding an event was hashed with (docs/STORAGE.md). New events
// are written with kEventFormat; events of every format from 1 up to it are read and verified.
// Format 2 adds `source.token`.
inline constexpr int kEventFormat = 2;
inline constexpr bool IsKnownEventFormat(std::int64_t format) {
  return format >= 1 && format <= kEventFormat;
}
// Whether events of `format` carry `source.token`.
inline constexpr bool HasSourceToken(std::int64_t format) { return format >= 2; }

// Where a command came from. Empty strings mean unknown and are served as null.
struct Source {
  std::string ip;
  std::string user_agent;
  std::string token;  // the public id of the API token that sent the command

  template <class Archive>
  void serialize(Archive& archive) {
    archive(ip, user_agent, token);
  }
  bool operator==(const Source&) const = default;
};

struct Event {
  std::int64_t position = 0;  // global order, from 1, gapless; set by the store
  std::string id;             // UUIDv7; set by the store when empty
  std::string stream;         // "{tenant}/instance" or "{tenant}/onboarding/{member}"
  std::int64_t version = 0;   // order within the stream, from 1; set by the store
  std::string type;           // e.g. "marketo.connected"
  std::string tenant;
  std::string actor;
  std::string subject;
  TimeMs occurred_at = 0;
  TimeMs recorded_at = 0;  // commit time; set by the store, never decreases
  std::string command_id;  // empty: none (served as null)
  std::string correlation_id;
  Source source;
  std::string data;       // the payload object, as canonical JSON text
  std::string prev_hash;  // 64 lower-case hex digits; set by the store
  std::string hash;       // set by the store
  int format = kEventFormat;

  template <class Archive>
  void serialize(Archive& archive) {
    archive(position, id, stream, version, type, tenant, actor, subject, occurred_at, recorded_at,
            command_id, correlation_id, source, data, prev_hash, hash, format);
  }
  bool operator==(const Event&) const = default;
};

// Streams of a tenant.
inline std::string InstanceStream(const std::string& tenant) { return tenant + "/instance"; }
// What separates the tenant from the member in an onboarding stream's name.
inline constexpr std::string_view kOnboardingInfix = "/onboarding/";
inline std::string OnboardingStream(const std::string& tenant, const std::string& member) {
  std::string stream = tenant;
  stream += kOnboardingInfix;
  stream += member;
  return stream;
}

}  // namespace custody
