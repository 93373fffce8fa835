// Event payloads: events::DecodeData on any bytes, for the event type the first byte picks.
// A payload it accepts must decode again, from its encoding, to the same payload; read from
// canonical bytes (as stored), it must encode back to those very bytes.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>

#include "domain/events.h"
#include "domain/json.h"
#include "fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace custody;
  if (size < 1) return 0;
  static const char* kTypes[] = {
      "tenant.created",           "member.invited",
      "member.removed",           "marketo.connected",
      "marketo.disconnected",     "marketo.ownership_transferred",
      "marketo.integration_down", "marketo.access_granted",
      "marketo.access_revoked",   "onboarding.step_completed",
      "command.rejected",         "unknown.type",
  };
  const std::string type = kTypes[data[0] % std::size(kTypes)];
  const std::string payload_text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto payload = events::DecodeData(type, payload_text, kEventFormat);
  if (!payload.ok()) return 0;
  fuzz::Check(std::string(events::TypeOf(*payload)) == type, "the type is kept");
  const std::string encoded = events::EncodeData(*payload);
  auto again = events::DecodeData(type, encoded, kEventFormat);
  fuzz::Check(again.ok(), "an encoded payload decodes");
  fuzz::Check(events::EncodeData(*again) == encoded, "a payload round-trips");
  boost::system::error_code error;
  const boost::json::value value = boost::json::parse(payload_text, error);
  if (!error && CanonicalJson(value) == payload_text) {
    fuzz::Check(encoded == payload_text, "stored bytes are what the payload encodes to");
  }
  return 0;
}
