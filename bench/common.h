#pragma once

// Shared helpers of the benchmark programs: timing, percentiles, memory, result lines.

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace custody::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The q-quantile (0..1) of `values`, in place (partially sorts them). 0 when empty.
double Quantile(std::vector<double>& values, double q);

// Peak resident set of this process (VmHWM), in MiB.
double PeakRssMib();

// Prints one result line: {"bench": name, ...fields}. run.sh collects these lines.
void Emit(const std::string& name, boost::json::object fields);

// --name VALUE options of a subcommand, with defaults.
class Args {
 public:
  Args(int argc, char** argv, int first);
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::int64_t Int(const std::string& name, std::int64_t fallback) const;
  double Real(const std::string& name, double fallback) const;
  bool Has(const std::string& name) const;
  // Everything after "--" (a command to run).
  const std::vector<std::string>& rest() const { return rest_; }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<std::string> rest_;
};

// A benchmark program's subcommand: `program NAME [--options]`.
struct Subcommand {
  std::string name;
  std::function<int(const Args&)> run;
};

// Runs the subcommand argv[1] names: its exit code, 1 when it throws, 2 (after the usage line)
// when there is no such subcommand.
int RunSubcommand(const std::string& program, int argc, char** argv,
                  std::initializer_list<Subcommand> subcommands);

}  // namespace custody::bench
