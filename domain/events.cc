#include "domain/events.h"

#include <exception>

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "domain/json.h"

namespace custody::events {
namespace {

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

// The reverse: reads name-value pairs from a JSON object, remembering the first problem.
class FromJson {
 public:
  explicit FromJson(const boost::json::object& object) : object_(object) {}

  template <class... Pairs>
  void operator()(Pairs&&... pairs) {
    (Get(pairs.name, pairs.value), ...);
  }

  std::size_t fields_read() const { return fields_read_; }
  const std::string& error() const { return error_; }

 private:
  const boost::json::value* Find(const char* name, bool required) {
    const auto* value = object_.if_contains(name);
    if (value == nullptr && required && error_.empty()) {
      error_ = std::string("missing field '") + name + "'";
    }
    if (value != nullptr) ++fields_read_;
    return value;
  }
  void Fail(const char* name, const char* expected) {
    if (error_.empty()) error_ = std::string("field '") + name + "' must be " + expected;
  }
  void Get(const char* name, std::string& out, bool required = true) {
    if (const auto* value = Find(name, required)) {
      if (!value->is_string()) return Fail(name, "a string");
      out = std::string(value->get_string());
    }
  }
  void Get(const char* name, bool& out, bool required = true) {
    if (const auto* value = Find(name, required)) {
      if (!value->is_bool()) return Fail(name, "a boolean");
      out = value->get_bool();
    }
  }
  void Get(const char* name, std::vector<std::string>& out, bool required = true) {
    if (const auto* value = Find(name, required)) {
      if (!value->is_array()) return Fail(name, "an array of strings");
      for (const auto& element : value->get_array()) {
        if (!element.is_string()) return Fail(name, "an array of strings");
        out.emplace_back(element.get_string());
      }
    }
  }
  template <class T>
  void Get(const char* name, std::optional<T>& out) {
    if (object_.if_contains(name) == nullptr) return;
    T value{};
    Get(name, value, true);
    out = std::move(value);
  }

  const boost::json::object& object_;
  std::size_t fields_read_ = 0;
  std::string error_;
};

template <class T>
bool TryDecode(const std::string& type, const boost::json::object& object, Result<Payload>* out) {
  if (type != T::kType) return false;
  T payload;
  FromJson reader(object);
  payload.serialize(reader);
  if (!reader.error().empty()) {
    *out = Status::InvalidArgument(type + ": " + reader.error());
  } else if (reader.fields_read() != object.size()) {
    *out = Status::InvalidArgument(type + ": data has fields this type does not define");
  } else {
    *out = Payload(std::move(payload));
  }
  return true;
}

template <class... Ts>
Result<Payload> DecodeAny(const std::string& type, const boost::json::object& object,
                          std::variant<Ts...>*) {
  Result<Payload> result = Status::InvalidArgument("unknown event type '" + type + "'");
  (TryDecode<Ts>(type, object, &result) || ...);
  return result;
}

}  // namespace

const char* TypeOf(const Payload& payload) {
  return std::visit([](const auto& p) { return std::decay_t<decltype(p)>::kType; }, payload);
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
  if (format != kEventFormat) {
    return Status::NotSupported("event format " + std::to_string(format) + " is not known");
  }
  // Parsed into a buffer on the stack: replay decodes every event, and the payload copies
  // what it keeps, so the parsed tree need not touch the heap.
  unsigned char buffer[4096];
  boost::json::monotonic_resource resource(buffer, sizeof buffer);
  boost::system::error_code error;
  const boost::json::value value = boost::json::parse(data, error, &resource);
  if (error || !value.is_object()) {
    return Status::InvalidArgument(type + ": data is not a JSON object");
  }
  return DecodeAny(type, value.get_object(), static_cast<Payload*>(nullptr));
}

}  // namespace custody::events
