#include "domain/status.h"

namespace custody {

std::string Status::ToString() const {
  const char* prefix = "ok";
  switch (code_) {
    case Code::kOk:
      return "ok";
    case Code::kInvalidArgument:
      prefix = "invalid argument";
      break;
    case Code::kNotFound:
      prefix = "not found";
      break;
    case Code::kConflict:
      prefix = "conflict";
      break;
    case Code::kCorruption:
      prefix = "corruption";
      break;
    case Code::kIOError:
      prefix = "I/O error";
      break;
    case Code::kBusy:
      prefix = "busy";
      break;
    case Code::kFull:
      prefix = "storage full";
      break;
    case Code::kNotSupported:
      prefix = "not supported";
      break;
  }
  return std::string(prefix) + ": " + message_;
}

}  // namespace custody
