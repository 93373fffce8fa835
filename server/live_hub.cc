#include "server/live_hub.h"

#include <algorithm>

#include "domain/events.h"

namespace custody::server {

int LiveHub::Add(Sink sink) {
  std::lock_guard lock(mutex_);
  const int id = next_id_++;
  sinks_.emplace(id, std::move(sink));
  return id;
}

void LiveHub::Remove(int id) {
  std::lock_guard lock(mutex_);
  sinks_.erase(id);
}

void LiveHub::Publish(const std::vector<Event>& events) {
  std::lock_guard lock(mutex_);
  if (sinks_.empty() || events.empty()) return;
  const auto batch = std::make_shared<const std::vector<Event>>(events);
  for (const auto& [id, sink] : sinks_) sink(batch);
}

std::size_t LiveHub::size() const {
  std::lock_guard lock(mutex_);
  return sinks_.size();
}

namespace {

// Whether `event` is an integration_down that cut `member` off (QueryEvents' subject rule).
bool CutOff(const Event& event, const std::string& member) {
  if (event.type != events::IntegrationDown::kType) return false;
  const auto payload = events::DecodeEvent(event);
  if (!payload.ok()) return false;
  const auto& cut_off = std::get<events::IntegrationDown>(*payload).cut_off;
  return std::find(cut_off.begin(), cut_off.end(), member) != cut_off.end();
}

}  // namespace

bool MatchesFilter(const eventstore::Filter& filter, const Event& event) {
  if (!filter.tenant.empty() && filter.tenant != event.tenant) return false;
  if (!filter.stream.empty() && filter.stream != event.stream) return false;
  if (!filter.type.empty() && filter.type != event.type) return false;
  if (!filter.actor.empty() && filter.actor != event.actor) return false;
  if (!filter.subject.empty() && filter.subject != event.subject &&
      !CutOff(event, filter.subject)) {
    return false;
  }
  if (filter.since && event.occurred_at < *filter.since) return false;
  if (filter.until && event.occurred_at >= *filter.until) return false;
  return true;
}

}  // namespace custody::server
