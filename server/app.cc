#include "server/app.h"

#include <chrono>

namespace custody::server {

TimeMs SystemNow() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Result<std::unique_ptr<App>> App::Open(const std::string& path, eventstore::Options options) {
  auto app = std::make_unique<App>();
  app->path = path;
  auto store = eventstore::EventStore::Open(path, std::move(options));
  if (!store.ok()) return store.status();
  app->store = std::move(store).value();
  auto projections = projections::Projections::Open(*app->store);
  if (!projections.ok()) return projections.status();
  app->projections = std::move(projections).value();
  app->commands =
      std::make_unique<projections::CommandService>(*app->store, *app->projections, SystemNow);
  auto tokens = eventstore::TokenStore::Open(path);
  if (!tokens.ok()) return tokens.status();
  app->tokens = std::move(tokens).value();
  return app;
}

App::~App() {
  if (projections) (void)projections->Checkpoint();
}

}  // namespace custody::server
