#pragma once

// Fans the event store's commits out to the live tails. The store calls Publish on its writer
// thread after each commit; every sink must only post work elsewhere (never block).

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "domain/event.h"
#include "eventstore/event_store.h"

namespace custody::server {

using EventBatch = std::shared_ptr<const std::vector<Event>>;

class LiveHub {
 public:
  using Sink = std::function<void(const EventBatch&)>;

  // Registers a sink; every batch committed after Add returns reaches it, in commit order.
  int Add(Sink sink);
  // After Remove returns, the sink is never called again.
  void Remove(int id);
  // Hands one committed batch to every sink (copied once, shared by all).
  void Publish(const std::vector<Event>& events);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::map<int, Sink> sinks_;
  int next_id_ = 1;
};

// Whether `event` passes every filter but the position bounds (the caller keeps its cursor).
bool MatchesFilter(const eventstore::Filter& filter, const Event& event);

}  // namespace custody::server
