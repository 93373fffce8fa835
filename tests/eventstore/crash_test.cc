// Kills a writing process at random moments and checks that every acknowledged append
// survived, with its content, and that the chain still verifies.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>

#include "eventstore/event_store.h"
#include "tests/eventstore/test_util.h"

namespace custody::eventstore {
namespace {

using testing::MakeEvent;
using testing::MakeRequest;
using testing::TempDir;

// One acknowledgement, written whole to the pipe (smaller than PIPE_BUF, so atomic).
struct Ack {
  std::int64_t position;
  std::int64_t serial;  // what the child put in the event's data
};

// The child: appends from several threads until killed, reporting each acknowledged append.
[[noreturn]] void AppendUntilKilled(const std::string& path, int fd, int round) {
  Result<std::unique_ptr<EventStore>> store = EventStore::Open(path);
  if (!store.ok()) _exit(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::int64_t i = 0;; ++i) {
        const std::int64_t serial = (std::int64_t{round} << 40) | (std::int64_t{t} << 32) | i;
        Event event =
            MakeEvent("crash.test", "child", "{\"serial\":" + std::to_string(serial) + "}");
        Result<AppendResult> result =
            (*store)->Append(MakeRequest("t", "t/" + std::to_string(t), {event}));
        if (!result.ok()) _exit(3);
        const Ack ack{result->events[0].position, serial};
        if (write(fd, &ack, sizeof ack) != static_cast<ssize_t>(sizeof ack)) _exit(4);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  _exit(0);
}

TEST(EventStoreCrash, AcknowledgedAppendsSurviveSigkill) {
  TempDir dir;
  const std::string path = dir.File("log.db");
  std::mt19937 random(20261121);
  std::map<std::int64_t, std::int64_t> acknowledged;  // position → serial
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      AppendUntilKilled(path, fds[1], round);
    }
    close(fds[1]);
    const auto lifetime = std::chrono::milliseconds(150 + random() % 350);
    std::this_thread::sleep_for(lifetime);
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    Ack ack;
    std::size_t count = 0;
    while (read(fds[0], &ack, sizeof ack) == static_cast<ssize_t>(sizeof ack)) {
      EXPECT_TRUE(acknowledged.emplace(ack.position, ack.serial).second) << ack.position;
      ++count;
    }
    close(fds[0]);
    EXPECT_GT(count, 0u) << "round " << round << " acknowledged nothing";

    Result<std::unique_ptr<EventStore>> reopened = EventStore::Open(path);
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    EventStore& store = **reopened;
    Result<VerifyReport> report = store.Verify();
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    EXPECT_TRUE(report->ok) << "round " << round << ": " << report->problem;
    EXPECT_GE(store.HeadPosition(), acknowledged.rbegin()->first);
    std::size_t found = 0;
    ASSERT_TRUE(store
                    .Scan(Filter{},
                          [&](const Event& e) {
                            auto it = acknowledged.find(e.position);
                            if (it != acknowledged.end()) {
                              ++found;
                              EXPECT_EQ(e.data, "{\"serial\":" + std::to_string(it->second) + "}");
                            }
                            return true;
                          })
                    .ok());
    EXPECT_EQ(found, acknowledged.size()) << "round " << round;
  }
}

}  // namespace
}  // namespace custody::eventstore
