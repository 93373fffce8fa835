#pragma once

// Status and Result<T>: the one error type that crosses module boundaries.
// Errors are values; no exception leaves a module.

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace custody {

class Status {
 public:
  enum class Code {
    kOk,
    kInvalidArgument,  // the input is malformed; nothing was changed
    kNotFound,         // an unknown tenant, member, stream or file
    kConflict,         // a concurrent change won; retrying may succeed
    kCorruption,       // stored data fails a check (hash chain, schema, foreign file)
    kIOError,          // the operating system or SQLite failed to read or write
    kBusy,             // the database is locked or the store is shutting down
    kFull,             // the disk or the database size limit is reached
    kNotSupported,     // e.g. a database written by a newer version
  };

  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) {
    return {Code::kInvalidArgument, std::move(message)};
  }
  static Status NotFound(std::string message) { return {Code::kNotFound, std::move(message)}; }
  static Status Conflict(std::string message) { return {Code::kConflict, std::move(message)}; }
  static Status Corruption(std::string message) { return {Code::kCorruption, std::move(message)}; }
  static Status IOError(std::string message) { return {Code::kIOError, std::move(message)}; }
  static Status Busy(std::string message) { return {Code::kBusy, std::move(message)}; }
  static Status Full(std::string message) { return {Code::kFull, std::move(message)}; }
  static Status NotSupported(std::string message) {
    return {Code::kNotSupported, std::move(message)};
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "not found: unknown tenant 'acme'" — for logs and command-line errors.
  std::string ToString() const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none. A Result is never built from an ok
// Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit on purpose
  Result(Status status) : value_(std::move(status)) {}  // NOLINT: implicit on purpose

  bool ok() const { return std::holds_alternative<T>(value_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(value_);
  }

  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace custody
