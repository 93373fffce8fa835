#include "domain/events.h"

#include <algorithm>
#include <array>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value.hpp>

#include "domain/json.h"

namespace custody::events {
namespace {

using boost::json::string_view;
using boost::system::error_code;

// A cereal-compatible archive that writes name-value pairs into a JSON object.
class ToJson {
 public:
  explicit ToJson(boost::json::object& object) : object_(object) {}

  template <class... Pairs>
  void operator()(Pairs&&... pairs) {
    (Put(pairs.name, pairs.value), ...);
  }

 private:
  void Put(const char* name, const std::string& value) { object_[name] = value; }
  void Put(const char* name, bool value) { object_[name] = value; }
  void Put(const char* name, const std::vector<std::string>& values) {
    boost::json::array array;
    for (const auto& value : values) array.emplace_back(value);
    object_[name] = std::move(array);
  }
  template <class T>
  void Put(const char* name, const std::optional<T>& value) {
    if (value) Put(name, *value);
  }

  boost::json::object& object_;
};

// The reverse, in one pass over the text without building a JSON tree (replay decodes every
// event of the log): a payload's fields become slots, and a SAX handler fills them as their
// keys come, remembering the first problem.
struct Slot {
  using Target = std::variant<std::string*, bool*, std::vector<std::string>*,
                              std::optional<std::string>*, std::optional<bool>*>;
  const char* name = nullptr;
  Target target;
  bool seen = false;

  bool required() const {
    return !std::holds_alternative<std::optional<std::string>*>(target) &&
           !std::holds_alternative<std::optional<bool>*>(target);
  }
};

// A cereal-compatible archive that lists a payload's fields as slots, without touching the
// heap.
class SlotList {
 public:
  static constexpr std::size_t kMaxFields = 12;

  template <class... Pairs>
  void operator()(Pairs&&... pairs) {
    static_assert(sizeof...(Pairs) <= kMaxFields, "a payload with more fields needs more slots");
    ((slots_[size_++] = Slot{pairs.name, &pairs.value}), ...);
  }
  std::span<Slot> slots() { return std::span<Slot>(slots_.data(), size_); }

 private:
  std::array<Slot, kMaxFields> slots_{};
  std::size_t size_ = 0;
};

class PayloadHandler {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  explicit PayloadHandler(std::span<Slot> slots) : slots_(slots) {}

  // The first problem found; empty if none.
  const std::string& error() const { return error_; }

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code& ec) {
    if (depth_ == 0) {
      depth_ = 1;
      return true;
    }
    return Mistyped(ec);
  }
  bool on_object_end(std::size_t, error_code&) { return true; }
  bool on_array_begin(error_code& ec) {
    if (depth_ == 1 && current_ != nullptr &&
        std::holds_alternative<std::vector<std::string>*>(current_->target)) {
      depth_ = 2;
      return true;
    }
    return Mistyped(ec);
  }
  bool on_array_end(std::size_t, error_code&) {
    depth_ = 1;
    return true;
  }
  bool on_key_part(string_view part, std::size_t, error_code&) { return Gather(part); }
  bool on_key(string_view part, std::size_t, error_code& ec) {
    const std::string_view key = Whole(part);
    const auto slot =
        std::find_if(slots_.begin(), slots_.end(), [key](const Slot& s) { return key == s.name; });
    current_ = slot == slots_.end() ? nullptr : &*slot;
    pending_.clear();
    if (current_ == nullptr) return Fail("data has fields this type does not define", ec);
    if (current_->seen) {
      return Fail(std::string("field '") + current_->name + "' appears twice", ec);
    }
    current_->seen = true;
    return true;
  }
  bool on_string_part(string_view part, std::size_t, error_code&) { return Gather(part); }
  bool on_string(string_view part, std::size_t, error_code& ec) {
    const std::string_view text = Whole(part);
    bool stored = true;
    if (current_ == nullptr) {
      stored = false;
    } else if (auto* const* out = std::get_if<std::string*>(&current_->target)) {
      (*out)->assign(text);
    } else if (auto* const* optional =
                   std::get_if<std::optional<std::string>*>(&current_->target)) {
      (*optional)->emplace(text);
    } else if (auto* const* list = std::get_if<std::vector<std::string>*>(&current_->target);
               list != nullptr && depth_ == 2) {
      (*list)->emplace_back(text);
    } else {
      stored = false;
    }
    pending_.clear();
    return stored || Mistyped(ec);
  }
  bool on_bool(bool value, error_code& ec) {
    if (current_ != nullptr && depth_ == 1) {
      if (auto* const* out = std::get_if<bool*>(&current_->target)) {
        **out = value;
        return true;
      }
      if (auto* const* optional = std::get_if<std::optional<bool>*>(&current_->target)) {
        **optional = value;
        return true;
      }
    }
    return Mistyped(ec);
  }
  bool on_number_part(string_view, error_code& ec) { return Mistyped(ec); }
  bool on_int64(std::int64_t, string_view, error_code& ec) { return Mistyped(ec); }
  bool on_uint64(std::uint64_t, string_view, error_code& ec) { return Mistyped(ec); }
  bool on_double(double, string_view, error_code& ec) { return Mistyped(ec); }
  bool on_null(error_code& ec) { return Mistyped(ec); }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

 private:
  // Keeps a part of a key or string the parser split.
  bool Gather(string_view part) {
    pending_.append(part.data(), part.size());
    return true;
  }
  // The whole key or string: the last part, after any earlier ones.
  std::string_view Whole(string_view last) {
    if (pending_.empty()) return std::string_view(last.data(), last.size());
    pending_.append(last.data(), last.size());
    return pending_;
  }
  // A value of the wrong kind: at the top level, anything but an object.
  bool Mistyped(error_code& ec) {
    if (depth_ == 0 || current_ == nullptr) return Fail("data is not a JSON object", ec);
    const char* expected = std::visit(
        [](auto* target) {
          using Field = std::remove_pointer_t<decltype(target)>;
          if constexpr (std::is_same_v<Field, bool> || std::is_same_v<Field, std::optional<bool>>) {
            return "a boolean";
          } else if constexpr (std::is_same_v<Field, std::vector<std::string>>) {
            return "an array of strings";
          } else {
            return "a string";
          }
        },
        current_->target);
    return Fail(std::string("field '") + current_->name + "' must be " + expected, ec);
  }
  bool Fail(std::string message, error_code& ec) {
    error_ = std::move(message);
    ec = boost::json::error::syntax;  // stops the parser
    return false;
  }

  std::span<Slot> slots_;
  Slot* current_ = nullptr;  // the field whose value comes next
  int depth_ = 0;            // 0 before the object, 1 inside it, 2 inside an array field
  std::string pending_;      // the parts of a key or string split by the parser
  std::string error_;
};

template <class T>
bool TryDecode(const std::string& type, std::string_view data, Result<Payload>* out) {
  if (type != std::string_view(T::kType)) return false;  // most differ in length already
  T payload;
  SlotList fields;
  payload.serialize(fields);
  boost::json::basic_parser<PayloadHandler> parser(boost::json::parse_options{}, fields.slots());
  error_code ec;
  const std::size_t used = parser.write_some(false, data.data(), data.size(), ec);
  if (!parser.handler().error().empty()) {
    *out = Status::InvalidArgument(type + ": " + parser.handler().error());
    return true;
  }
  if (ec || used != data.size() || !parser.done()) {
    *out = Status::InvalidArgument(type + ": data is not a JSON object");
    return true;
  }
  for (const Slot& slot : fields.slots()) {
    if (slot.required() && !slot.seen) {
      *out = Status::InvalidArgument(type + ": missing field '" + slot.name + "'");
      return true;
    }
  }
  *out = Payload(std::move(payload));
  return true;
}

template <class... Ts>
Result<Payload> DecodeAny(const std::string& type, std::string_view data, std::variant<Ts...>*) {
  Result<Payload> result = Status::InvalidArgument("unknown event type '" + type + "'");
  (TryDecode<Ts>(type, data, &result) || ...);
  return result;
}

}  // namespace

const char* TypeOf(const Payload& payload) {
  return std::visit([](const auto& p) { return std::decay_t<decltype(p)>::kType; }, payload);
}

namespace {
template <typename Visit, std::size_t... I>
void ForEachType(Visit&& visit, std::index_sequence<I...>) {
  (visit(std::variant_alternative_t<I, Payload>::kType), ...);
}
template <typename Visit>
void ForEachType(Visit&& visit) {
  ForEachType(visit, std::make_index_sequence<std::variant_size_v<Payload>>());
}
}  // namespace

bool IsEventType(std::string_view type) {
  bool known = false;
  ForEachType([&](std::string_view candidate) { known = known || candidate == type; });
  return known;
}

std::string EventTypeList() {
  std::string list;
  ForEachType([&](std::string_view type) { (list += list.empty() ? "" : ", ") += type; });
  return list;
}

std::string EncodeData(const Payload& payload) {
  boost::json::object object;
  ToJson writer(object);
  std::visit(
      [&](const auto& p) {
        auto fields = p;  // serialize() is not const: cereal archives both load and save
        fields.serialize(writer);
      },
      payload);
  return CanonicalJson(object);
}

Result<Payload> DecodeData(const std::string& type, const std::string& data, int format) {
  // Formats differ in the envelope only; `data` reads the same in all of them.
  if (!IsKnownEventFormat(format)) {
    return Status::NotSupported("event format " + std::to_string(format) + " is not known");
  }
  return DecodeAny(type, data, static_cast<Payload*>(nullptr));
}

}  // namespace custody::events
