// custody: the command line. `custody <command> --help` describes each command.

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "server/cli/cli.h"

namespace {

using custody::cli::Subcommand;

const std::vector<Subcommand>& Subcommands() {
  static const std::vector<Subcommand> kAll = {
      {"serve", "run the HTTP server", custody::cli::RunServe},
      {"demo", "load the demo stories of the product documents", custody::cli::RunDemo},
      {"replay", "rebuild state from the log and print it as JSON", custody::cli::RunReplay},
      {"verify", "check the whole hash chain", custody::cli::RunVerify},
      {"export", "write the history to standard output", custody::cli::RunExport},
      {"import", "load an NDJSON export into an empty database", custody::cli::RunImport},
      {"token", "add, list or revoke API tokens", custody::cli::RunToken},
  };
  return kAll;
}

void PrintUsage(std::ostream& out) {
  out << "usage: custody <command> [options]\n\ncommands:\n";
  for (const Subcommand& command : Subcommands()) {
    out << "  " << command.name << std::string(10 - std::string(command.name).size(), ' ')
        << command.summary << "\n";
  }
  out << "\n`custody <command> --help` describes a command's options.\n"
         "Exit codes: 0 done, 1 check failed, 2 usage error, 3 storage error.\n";
}

// Output lost to a full disk or a closed pipe must not pass for done.
int Flushed(int code) {
  if (std::cout.flush() || code != custody::cli::kDone) return code;
  std::cerr << "custody: cannot write to standard output\n";
  return custody::cli::kStorage;
}

}  // namespace

int main(int argc, char** argv) {
  // A reader that went away (`custody export | head`) must be a write error the command can
  // act on (token add revokes the token nobody saw), not a signal that ends it silently.
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    PrintUsage(std::cerr);
    return custody::cli::kUsage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintUsage(std::cout);
    return Flushed(custody::cli::kDone);
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  for (const Subcommand& command : Subcommands()) {
    if (name == command.name) return Flushed(command.run(args));
  }
  std::cerr << "custody: unknown command '" << name << "' (see custody --help)\n";
  return custody::cli::kUsage;
}
