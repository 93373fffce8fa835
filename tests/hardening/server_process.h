#pragma once

// The real `custody serve`, run as a child process for the crash tests: started on a free
// port (the server prints the one it chose), stopped with any signal.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace custody::hardening {

class ServerProcess {
 public:
  // Runs `binary serve --db db --listen 127.0.0.1:0 flags...`, its standard output going to
  // `log`, and its standard error too unless `error_log` names another file.
  // Waits until it says where it listens; port() is 0 if it never does (see exit_status()).
  ServerProcess(const std::string& binary, const std::string& db, const std::string& log,
                const std::vector<std::string>& flags = {}, const std::string& error_log = "")
      : log_(log), error_log_(error_log.empty() ? log : error_log) {
    std::vector<std::string> args = {binary, "serve", "--db", db, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec: the test process has threads.
      const int out = open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out < 0 || dup2(out, STDOUT_FILENO) < 0) _exit(126);
      const int err =
          error_log_ == log_ ? out : open(error_log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err < 0 || dup2(err, STDERR_FILENO) < 0) _exit(126);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (port_ == 0 && std::chrono::steady_clock::now() < deadline && running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      port_ = ReadPort();
    }
  }
  ~ServerProcess() {
    if (pid_ > 0 && status_ < 0) Stop(SIGKILL);
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  // The wait status once the process has ended; -1 while it runs.
  int exit_status() const { return status_; }

  // Sends `signal` and waits for the process; returns its wait status.
  int Stop(int signal) {
    if (status_ >= 0) return status_;
    kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    status_ = status;
    return status_;
  }

  std::string Log() const { return ReadFile(log_); }
  // The same as Log() unless the constructor was given an `error_log`.
  std::string ErrorLog() const { return ReadFile(error_log_); }

 private:
  bool running() {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status;
      return false;
    }
    return true;
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // "custody is listening on http://127.0.0.1:PORT (database ...)"
  std::uint16_t ReadPort() const {
    const std::string text = Log();
    const std::string marker = "custody is listening on http://127.0.0.1:";
    const std::size_t at = text.find(marker);
    if (at == std::string::npos) return 0;
    std::size_t end = at + marker.size();
    unsigned port = 0;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') {
      port = port * 10 + static_cast<unsigned>(text[end++] - '0');
    }
    return end < text.size() && text[end] == ' ' ? static_cast<std::uint16_t>(port) : 0;
  }

  std::string log_;
  std::string error_log_;
  pid_t pid_ = -1;
  int status_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace custody::hardening
