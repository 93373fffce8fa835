#pragma once

// Shared pieces of the `custody` command line: exit codes, option parsing, output helpers.

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <boost/json/value.hpp>
#include <boost/program_options.hpp>

#include "domain/status.h"

namespace custody::cli {

// The exit codes of API.md.
enum ExitCode : int {
  kDone = 0,
  kCheckFailed = 1,  // verify or import found an altered or invalid history
  kUsage = 2,
  kStorage = 3,
};

using Args = std::vector<std::string>;

// One subcommand: its name, a line of help, and how to run it on the arguments after its name.
struct Subcommand {
  const char* name;
  const char* summary;
  std::function<int(const Args&)> run;
};

// The --db option every subcommand takes, described once.
void AddDbOption(boost::program_options::options_description& options, std::string* db);

// Parses `args` into `options` (and positionals). On --help prints usage and returns kDone; on
// bad usage prints one line to stderr and returns kUsage; otherwise returns -1 (go on).
int Parse(const Args& args, const char* usage,
          const boost::program_options::options_description& options,
          const boost::program_options::positional_options_description& positionals,
          boost::program_options::variables_map& values);

// A --tenant given (export, replay) must name a tenant: an empty one (an unset shell variable)
// would otherwise mean every tenant. Prints the problem and returns kUsage; -1 when fine.
int CheckTenantOption(const boost::program_options::variables_map& values,
                      const std::string& tenant);

// --db, else $CUSTODY_DB, else custody.db in the current folder.
std::string ResolveDb(const std::string& from_option);

// Prints "custody: <message>" on stderr and returns `code`.
int Fail(int code, const std::string& message);
// Maps a storage Status to kStorage with its message.
int StorageFailure(const Status& status);
// kInvalidArgument is the caller's mistake (kUsage, with its message); the rest StorageFailure.
int UsageOrStorageFailure(const Status& status);

// Writes `value` as indented JSON followed by a new line.
void PrintPretty(std::ostream& out, const boost::json::value& value);

int RunServe(const Args& args);
int RunDemo(const Args& args);
int RunReplay(const Args& args);
int RunVerify(const Args& args);
int RunExport(const Args& args);
int RunImport(const Args& args);
int RunToken(const Args& args);

}  // namespace custody::cli
