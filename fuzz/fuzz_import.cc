// `custody import` on any NDJSON: each line through EventFromJson, then EventStore::Import into
// a fresh database. The first byte says whether the harness rewrites every prev_hash and hash
// into a valid chain first, so the checks behind the hashes (positions, versions, streams,
// command ids) are reached too. An import is all or nothing: refused, nothing is visible; done,
// the chain verifies and the head is the last event.

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "eventstore/event_format.h"
#include "eventstore/event_store.h"
#include "fuzz/check.h"

namespace custody::fuzz {
namespace {

std::string g_dir;

void RemoveDir() {
  std::error_code ignored;
  std::filesystem::remove_all(g_dir, ignored);
}

std::vector<Event> ParseLines(std::string_view input) {
  std::vector<Event> events;
  while (!input.empty()) {
    const std::size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end);
    input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
    if (line.empty()) continue;
    auto event = eventstore::EventFromJson(line);
    if (event.ok()) events.push_back(std::move(event).value());
  }
  return events;
}

void Rechain(std::vector<Event>& events) {
  std::string prev = eventstore::kGenesisHash;
  for (Event& event : events) {
    event.prev_hash = prev;
    event.hash = eventstore::ChainHash(prev, event);
    prev = event.hash;
  }
}

}  // namespace
}  // namespace custody::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // A fresh database per input: in memory-backed /dev/shm when there is one, where syncs cost
  // nothing.
  std::error_code error;
  const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", error)
                                         ? std::filesystem::path("/dev/shm")
                                         : std::filesystem::temp_directory_path();
  std::string pattern = (base / "custody-fuzz-import-XXXXXX").string();
  custody::fuzz::Check(mkdtemp(pattern.data()) != nullptr, "a temporary folder");
  custody::fuzz::g_dir = pattern;
  std::atexit(custody::fuzz::RemoveDir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace custody;
  if (size < 1) return 0;
  std::vector<Event> events =
      fuzz::ParseLines(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  if (events.empty()) return 0;
  if (data[0] & 1) fuzz::Rechain(events);

  const std::string path = fuzz::g_dir + "/import.db";
  for (const char* suffix : {"", "-wal", "-shm"}) unlink((path + suffix).c_str());
  eventstore::Options options;
  options.synchronous_full = false;
  options.read_connections = 1;
  auto store = eventstore::EventStore::Open(path, options);
  fuzz::Check(store.ok(), "a fresh store opens");
  const Status imported = (*store)->Import(events);
  auto report = (*store)->Verify();
  fuzz::Check(report.ok(), "the log can be verified");
  fuzz::Check(report->ok, "the chain verifies after any import");
  if (!imported.ok()) {
    fuzz::Check(imported.code() == Status::Code::kCorruption ||
                    imported.code() == Status::Code::kInvalidArgument,
                "a bad import is refused as such");
    fuzz::Check((*store)->HeadPosition() == 0 && report->events == 0, "nothing of it is kept");
    return 0;
  }
  fuzz::Check((*store)->HeadPosition() == events.back().position, "the head is the last event");
  fuzz::Check(report->events == static_cast<std::int64_t>(events.size()), "every event is kept");
  return 0;
}
