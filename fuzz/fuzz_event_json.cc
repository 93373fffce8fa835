// One NDJSON line of an export, as `custody import` reads it: EventFromJson on any bytes. What
// it accepts must be written back by EventToJson to a line that parses to the same event and
// is written again byte for byte (one encoding per event), and must hash and render as CSV.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "eventstore/event_format.h"
#include "fuzz/check.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace custody;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  auto event = eventstore::EventFromJson(line);
  if (!event.ok()) {
    fuzz::Check(event.status().code() == Status::Code::kInvalidArgument, "bad lines are invalid");
    return 0;
  }
  const std::string written = eventstore::EventToJson(*event);
  auto again = eventstore::EventFromJson(written);
  fuzz::Check(again.ok(), "a written event parses");
  fuzz::Check(*again == *event, "a written event parses to itself");
  fuzz::Check(eventstore::EventToJson(*again) == written, "one encoding per event");
  fuzz::Check(eventstore::ChainHash(event->prev_hash, *event).size() == 64, "every event hashes");
  fuzz::Check(!eventstore::EventToCsvRow(*event).empty(), "every event has a CSV row");
  return 0;
}
