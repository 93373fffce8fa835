#include "server/shared_state.h"

#include <algorithm>

namespace custody::server {

SharedState::SharedState(App& app_in, ServerOptions options_in)
    : app(app_in),
      options(std::move(options_in)),
      pool(static_cast<std::size_t>(std::max(1, options.worker_threads))) {}

void SharedState::Register(const std::shared_ptr<HttpSession>& session) {
  std::lock_guard lock(mutex_);
  sessions_.emplace(session.get(), session);
}

void SharedState::Unregister(const HttpSession* session) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
  if (sessions_.empty()) ended_.notify_all();
}

std::vector<std::shared_ptr<HttpSession>> SharedState::Sessions() const {
  std::vector<std::shared_ptr<HttpSession>> open;
  std::lock_guard lock(mutex_);
  for (const auto& [key, weak] : sessions_) {
    if (auto session = weak.lock()) open.push_back(std::move(session));
  }
  return open;
}

bool SharedState::WaitForNoSessions(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return ended_.wait_for(lock, timeout, [&] { return sessions_.empty(); });
}

}  // namespace custody::server
