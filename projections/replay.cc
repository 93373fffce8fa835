#include "projections/replay.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace custody::projections {
namespace {

// Events handed over at a time, and batches in flight: memory stays bounded by about
// kBatchEvents * kBatchesInFlight events whatever the size of the log.
constexpr std::size_t kBatchEvents = 1024;
constexpr std::size_t kBatchesInFlight = 4;
// More appliers than this only wait for the reader.
constexpr std::size_t kMaxAppliers = 4;

// Batches move from the reader to the applier and back empty, so that their events' strings
// keep their capacity.
class BatchQueue {
 public:
  using Batch = std::vector<Event>;

  BatchQueue() {
    for (std::size_t i = 0; i < kBatchesInFlight; ++i) empty_.emplace_back();
  }

  // Reader side. TakeEmpty returns an empty vector at once when the applier gave up.
  Batch TakeEmpty() {
    return Take(empty_, [this] { return !empty_.empty() || abandoned_; }).value_or(Batch{});
  }
  void PutFull(Batch batch) {
    Change([&] { full_.push_back(std::move(batch)); });
  }
  void Finish(Status status) {
    Change([&] {
      finished_ = true;
      status_ = std::move(status);
    });
  }
  bool abandoned() {
    std::lock_guard lock(mutex_);
    return abandoned_;
  }

  // Applier side: the next full batch, or nullopt when the reader has finished.
  std::optional<Batch> TakeFull() {
    return Take(full_, [this] { return !full_.empty() || finished_; });
  }
  void PutEmpty(Batch batch) {
    Change([&] { empty_.push_back(std::move(batch)); });
  }
  // The applier stops early: the reader must not wait for it.
  void Abandon() {
    Change([&] { abandoned_ = true; });
  }
  Status status() {
    std::lock_guard lock(mutex_);
    return status_;
  }

 private:
  template <typename Ready>
  std::optional<Batch> Take(std::deque<Batch>& from, Ready ready) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, ready);
    if (from.empty()) return std::nullopt;
    Batch batch = std::move(from.front());
    from.pop_front();
    return batch;
  }
  template <typename Update>
  void Change(Update update) {
    {
      std::lock_guard lock(mutex_);
      update();
    }
    changed_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Batch> empty_, full_;
  bool finished_ = false;
  bool abandoned_ = false;
  Status status_;
};

// One applier's share of the replay: the tenants whose names hash to it and the queue that
// feeds it their events. A tenant's events all go to one applier, in position order.
struct Partition {
  BatchQueue queue;
  State state;
  std::int64_t applied = 0;
  Status failure;
};

void ApplyPartition(Partition& partition) {
  try {
    while (std::optional<BatchQueue::Batch> batch = partition.queue.TakeFull()) {
      for (const Event& event : *batch) {
        partition.failure = ApplyEvent(partition.state, event);
        if (!partition.failure.ok()) break;
        ++partition.applied;
      }
      if (!partition.failure.ok()) break;
      partition.queue.PutEmpty(std::move(*batch));
    }
  } catch (const std::exception& error) {  // out of memory
    partition.failure = Status::IOError(std::string("replay: ") + error.what());
  }
  if (!partition.failure.ok()) partition.queue.Abandon();  // the reader must not wait for it
}

std::size_t PartitionOf(std::string_view tenant, std::size_t partitions) {
  return std::hash<std::string_view>{}(tenant) % partitions;
}

// Reads on this thread and deals the events to the partitions; batches are filled in place to
// reuse their strings. Stops early when an applier gave up.
void ReadAndDeal(const eventstore::EventStore& store, std::int64_t after,
                 std::optional<std::int64_t> until, const std::string& tenant,
                 std::vector<std::unique_ptr<Partition>>& partitions) {
  std::vector<BatchQueue::Batch> batches;
  std::vector<std::size_t> used(partitions.size(), 0);
  for (auto& partition : partitions) batches.push_back(partition->queue.TakeEmpty());
  auto hand_over = [&](std::size_t k) {
    batches[k].resize(used[k]);
    partitions[k]->queue.PutFull(std::move(batches[k]));
    batches[k] = partitions[k]->queue.TakeEmpty();
    used[k] = 0;
  };
  Status read;
  try {
    read = store.Replay(after, until, tenant, [&](const Event& event) {
      const std::size_t k = PartitionOf(event.tenant, partitions.size());
      BatchQueue::Batch& batch = batches[k];
      if (used[k] == batch.size()) batch.emplace_back();
      batch[used[k]++] = event;  // assignment reuses the strings' capacity
      if (used[k] < kBatchEvents) return true;
      hand_over(k);
      return !partitions[k]->queue.abandoned();
    });
    for (std::size_t k = 0; k < partitions.size(); ++k) {
      if (used[k] > 0) hand_over(k);
    }
  } catch (const std::exception& error) {  // out of memory
    read = Status::IOError(std::string("replay: ") + error.what());
  }
  for (auto& partition : partitions) partition->queue.Finish(read);
}

Result<std::int64_t> ReplayOnOneThread(const eventstore::EventStore& store, std::int64_t after,
                                       std::optional<std::int64_t> until, const std::string& tenant,
                                       State& state) {
  Status failure;
  std::int64_t applied = 0;
  Status read = store.Replay(after, until, tenant, [&](const Event& event) {
    failure = ApplyEvent(state, event);
    applied += failure.ok();
    return failure.ok();
  });
  if (!read.ok()) return read;
  if (!failure.ok()) return failure;
  return applied;
}

}  // namespace

Result<std::int64_t> ReplayInto(const eventstore::EventStore& store, std::int64_t after,
                                std::optional<std::int64_t> until, const std::string& tenant,
                                State& state, const ReplayThreads& threads) {
  const std::int64_t last = std::min(until.value_or(INT64_MAX), store.HeadPosition());
  // The reader keeps a core busy; the appliers share the others. One tenant's events all go
  // to one applier.
  const unsigned cores = std::thread::hardware_concurrency();
  const std::size_t appliers =
      threads.appliers > 0 ? threads.appliers
      : !tenant.empty()    ? 1
                           : std::clamp<std::size_t>(cores > 1 ? cores - 1 : 1, 1, kMaxAppliers);
  if (last - after < threads.min_events || (threads.appliers == 0 && cores < 2)) {
    return ReplayOnOneThread(store, after, until, tenant, state);
  }
  // Each partition starts from its tenants' current views.
  std::vector<std::unique_ptr<Partition>> partitions;
  for (std::size_t k = 0; k < appliers; ++k) partitions.push_back(std::make_unique<Partition>());
  while (!state.tenants.empty()) {
    auto node = state.tenants.extract(state.tenants.begin());
    partitions[PartitionOf(node.key(), appliers)]->state.tenants.insert(std::move(node));
  }

  std::vector<std::thread> running;
  try {
    for (std::size_t k = 1; k < appliers; ++k) {
      running.emplace_back(ApplyPartition, std::ref(*partitions[k]));
    }
    running.emplace_back(ReadAndDeal, std::cref(store), after, until, std::cref(tenant),
                         std::ref(partitions));
  } catch (const std::exception&) {  // no thread to spare: stop those started, replay here
    for (auto& partition : partitions) {
      partition->queue.Abandon();
      partition->queue.Finish(Status::Ok());
    }
    for (std::thread& thread : running) thread.join();
    for (auto& partition : partitions) state.tenants.merge(partition->state.tenants);
    return ReplayOnOneThread(store, after, until, tenant, state);
  }
  ApplyPartition(*partitions[0]);
  for (std::thread& thread : running) thread.join();

  std::int64_t applied = 0;
  Status failure;
  for (auto& partition : partitions) {
    state.tenants.merge(partition->state.tenants);
    state.position = std::max(state.position, partition->state.position);
    applied += partition->applied;
    if (failure.ok()) failure = partition->failure;
    if (failure.ok()) failure = partition->queue.status();
  }
  if (!failure.ok()) return failure;
  return applied;
}

}  // namespace custody::projections
