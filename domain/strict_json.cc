#include "domain/strict_json.h"

#include <algorithm>
#include <utility>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

namespace custody {
namespace {

namespace json = boost::json;
using boost::system::error_code;

// Builds the value as Boost.JSON's own parser does (a value_stack), and also keeps the keys of
// the open objects, all in one buffer, to check an object's keys when it closes: pairwise for
// a few, sorted for many (a hostile body may hold thousands of keys in one object).
class StrictHandler {
 public:
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  // `buffer` holds the value stack until it outgrows it, as in json::parse.
  StrictHandler(unsigned char* buffer, std::size_t size)
      : stack(json::storage_ptr(), buffer, size) {}

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) {
    frames_.push_back(keys_.size());
    return true;
  }
  bool on_object_end(std::size_t size, error_code& error) {
    const std::size_t first = frames_.back();
    frames_.pop_back();
    if (auto repeated = Repeated(first)) {
      duplicate_.emplace(*repeated);
      error = json::error::syntax;  // stops the parser
      return false;
    }
    // The object's keys are the last ones in the buffer: drop them.
    arena_.resize(first == 0 ? 0 : keys_[first - 1].first + keys_[first - 1].second);
    keys_.resize(first);
    stack.push_object(size);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t size, error_code&) {
    stack.push_array(size);
    return true;
  }
  bool on_key_part(json::string_view part, std::size_t, error_code&) {
    arena_.append(part.data(), part.size());
    stack.push_chars(part);
    return true;
  }
  bool on_key(json::string_view part, std::size_t size, error_code&) {
    arena_.append(part.data(), part.size());
    keys_.emplace_back(arena_.size() - size, size);
    stack.push_key(part);
    return true;
  }
  bool on_string_part(json::string_view part, std::size_t, error_code&) {
    stack.push_chars(part);
    return true;
  }
  bool on_string(json::string_view part, std::size_t, error_code&) {
    stack.push_string(part);
    return true;
  }
  bool on_number_part(json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t value, json::string_view, error_code&) {
    stack.push_int64(value);
    return true;
  }
  bool on_uint64(std::uint64_t value, json::string_view, error_code&) {
    stack.push_uint64(value);
    return true;
  }
  bool on_double(double value, json::string_view, error_code&) {
    stack.push_double(value);
    return true;
  }
  bool on_bool(bool value, error_code&) {
    stack.push_bool(value);
    return true;
  }
  bool on_null(error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }

  json::value_stack stack;
  const std::optional<std::string>& duplicate() const { return duplicate_; }

 private:
  std::string_view Key(std::size_t index) const {
    return std::string_view(arena_).substr(keys_[index].first, keys_[index].second);
  }

  // A key given twice among keys_[first..]; nullopt when they all differ.
  std::optional<std::string_view> Repeated(std::size_t first) const {
    const std::size_t count = keys_.size() - first;
    if (count <= 16) {
      for (std::size_t i = first + 1; i < keys_.size(); ++i) {
        for (std::size_t j = first; j < i; ++j) {
          if (Key(i) == Key(j)) return Key(i);
        }
      }
      return std::nullopt;
    }
    std::vector<std::string_view> sorted;
    sorted.reserve(count);
    for (std::size_t i = first; i < keys_.size(); ++i) sorted.push_back(Key(i));
    std::sort(sorted.begin(), sorted.end());
    const auto repeated = std::adjacent_find(sorted.begin(), sorted.end());
    if (repeated == sorted.end()) return std::nullopt;
    return *repeated;
  }

  std::string arena_;                                      // the keys of the open objects
  std::vector<std::pair<std::size_t, std::size_t>> keys_;  // offset and size in arena_
  std::vector<std::size_t> frames_;  // for each open object, the index of its first key
  std::optional<std::string> duplicate_;
};

}  // namespace

json::value ParseStrictJson(std::string_view text, const json::parse_options& options,
                            error_code& error, std::optional<std::string>* duplicate) {
  unsigned char buffer[BOOST_JSON_STACK_BUFFER_SIZE];
  json::basic_parser<StrictHandler> parser(options, buffer, sizeof buffer);
  parser.handler().stack.reset();
  const std::size_t used = parser.write_some(false, text.data(), text.size(), error);
  *duplicate = parser.handler().duplicate();
  if (*duplicate) return nullptr;
  if (!error && used < text.size()) error = json::error::extra_data;
  if (!error && !parser.done()) error = json::error::incomplete;
  if (error) return nullptr;
  return parser.handler().stack.release();
}

std::optional<std::string> FindDuplicateKey(std::string_view text) {
  json::parse_options options;
  options.max_depth = std::size_t(-1);  // the stack is on the heap
  error_code error;
  std::optional<std::string> duplicate;
  ParseStrictJson(text, options, error, &duplicate);
  return duplicate;
}

}  // namespace custody
