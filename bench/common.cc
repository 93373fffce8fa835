#include "bench/common.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <boost/json/serialize.hpp>

namespace custody::bench {

double Quantile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  const std::size_t k = std::min(values.size() - 1, static_cast<std::size_t>(q * values.size()));
  std::nth_element(values.begin(), values.begin() + k, values.end());
  return values[k];
}

double PeakRssMib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

void Emit(const std::string& name, boost::json::object fields) {
  boost::json::object line{{"bench", name}};
  for (auto& [key, value] : fields) line[key] = value;
  std::cout << boost::json::serialize(line) << std::endl;
}

Args::Args(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      rest_.assign(argv + i + 1, argv + argc);
      return;
    }
    if (arg.rfind("--", 0) != 0) continue;
    const bool has_value = i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0;
    values_.emplace_back(arg.substr(2), has_value ? argv[++i] : "");
  }
}

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  for (const auto& [key, value] : values_) {
    if (key == name) return value;
  }
  return fallback;
}

bool Args::Has(const std::string& name) const {
  return std::any_of(values_.begin(), values_.end(),
                     [&](const auto& pair) { return pair.first == name; });
}

std::int64_t Args::Int(const std::string& name, std::int64_t fallback) const {
  const std::string value = Get(name);
  return value.empty() ? fallback : std::stoll(value);
}

double Args::Real(const std::string& name, double fallback) const {
  const std::string value = Get(name);
  return value.empty() ? fallback : std::stod(value);
}

int RunSubcommand(const std::string& program, int argc, char** argv,
                  std::initializer_list<Subcommand> subcommands) {
  const std::string name = argc > 1 ? argv[1] : "";
  std::string usage;
  for (const Subcommand& subcommand : subcommands) {
    usage += (usage.empty() ? "" : "|") + subcommand.name;
    if (subcommand.name != name) continue;
    try {
      return subcommand.run(Args(argc, argv, 2));
    } catch (const std::exception& e) {
      std::cerr << program << " " << name << ": " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "usage: " << program << " " << usage << " [--options]\n";
  return 2;
}

}  // namespace custody::bench
