#include "server/cli/cli.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <iostream>

#include <boost/json/serialize.hpp>

#include "domain/command_codec.h"
#include "domain/json.h"

namespace custody::cli {

namespace po = boost::program_options;

void AddDbOption(po::options_description& options, std::string* db) {
  options.add_options()("db", po::value<std::string>(db)->value_name("PATH"),
                        "the database file (default: $CUSTODY_DB, else custody.db)");
}

int Parse(const Args& args, const char* usage, const po::options_description& options,
          const po::positional_options_description& positionals, po::variables_map& values) {
  po::options_description all = options;
  all.add_options()("help,h", "show this help");
  // Positional arguments are declared as options for the parser, but are not options.
  // max_total_count() is UINT_MAX for a positional without bound: the first few name it.
  const unsigned positional_count = std::min(positionals.max_total_count(), 8u);
  auto is_positional = [&](const std::string& name) {
    for (unsigned i = 0; i < positional_count; ++i) {
      if (positionals.name_for_position(i) == name) return true;
    }
    return false;
  };
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (arg.starts_with("--") && is_positional(arg.substr(2, arg.find('=') - 2))) {
      std::cerr << "custody: unrecognised option '" << arg << "' (usage: " << usage << ")\n";
      return kUsage;
    }
  }
  try {
    po::store(po::command_line_parser(args).options(all).positional(positionals).run(), values);
    if (values.count("help")) {
      // Positional arguments (FILE, ACTION, ID) are named in the usage line, not as options.
      po::options_description shown("options");
      for (const auto& option : all.options()) {
        if (!is_positional(option->long_name())) shown.add(option);
      }
      std::cout << "usage: " << usage << "\n\n" << shown;
      return kDone;
    }
    po::notify(values);
    // An unset shell variable must not silently mean $CUSTODY_DB or ./custody.db.
    if (values.count("db") && values["db"].as<std::string>().empty()) {
      std::cerr << "custody: --db needs a path (usage: " << usage << ")\n";
      return kUsage;
    }
    if (const char* from_env = std::getenv("CUSTODY_DB");
        !values.count("db") && from_env != nullptr && *from_env == '\0') {
      std::cerr << "custody: CUSTODY_DB is set but empty; unset it or name a database\n";
      return kUsage;
    }
  } catch (const po::required_option& error) {
    // Named as the usage line names it: FILE, ACTION, not "the option '--file'".
    std::string name = error.get_option_name();
    name.erase(0, name.find_first_not_of('-'));
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::cerr << "custody: missing " << name << " (usage: " << usage << ")\n";
    return kUsage;
  } catch (const po::error& error) {
    std::cerr << "custody: " << error.what() << " (usage: " << usage << ")\n";
    return kUsage;
  }
  return -1;
}

std::string ResolveDb(const std::string& from_option) {
  if (!from_option.empty()) return from_option;
  if (const char* from_env = std::getenv("CUSTODY_DB"); from_env != nullptr && *from_env) {
    return from_env;
  }
  return "custody.db";
}

int CheckTenantOption(const po::variables_map& values, const std::string& tenant) {
  if (!values.count("tenant")) return -1;
  if (tenant.empty()) {
    return Fail(kUsage, "--tenant needs a tenant id; leave it out for every tenant");
  }
  if (std::string problem = TenantIdProblem(tenant); !problem.empty()) return Fail(kUsage, problem);
  return -1;
}

int Fail(int code, const std::string& message) {
  std::cerr << "custody: " << message << "\n";
  return code;
}

int StorageFailure(const Status& status) { return Fail(kStorage, status.ToString()); }

int UsageOrStorageFailure(const Status& status) {
  if (status.code() == Status::Code::kInvalidArgument) return Fail(kUsage, status.message());
  return StorageFailure(status);
}

namespace {

void Pretty(std::string& out, const boost::json::value& value, int depth) {
  const std::string indent(2 * (depth + 1), ' ');
  const std::string closing(2 * depth, ' ');
  if (value.is_object() && !value.get_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& member : value.get_object()) {
      out += first ? "" : ",\n";
      first = false;
      out += indent;
      AppendJsonString(out, member.key());
      out += ": ";
      Pretty(out, member.value(), depth + 1);
    }
    out += "\n" + closing + "}";
  } else if (value.is_array() && !value.get_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& element : value.get_array()) {
      out += first ? "" : ",\n";
      first = false;
      out += indent;
      Pretty(out, element, depth + 1);
    }
    out += "\n" + closing + "]";
  } else {
    out += boost::json::serialize(value);
  }
}

}  // namespace

void PrintPretty(std::ostream& out, const boost::json::value& value) {
  std::string text;
  Pretty(text, value, 0);
  out << text << "\n";
}

}  // namespace custody::cli
