#include "eventstore/encoding.h"

#include <openssl/evp.h>

#include <charconv>
#include <climits>
#include <cstring>
#include <memory>

#include <boost/json/parse.hpp>

#include "domain/json.h"
#include "domain/time.h"

namespace custody::eventstore {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendInt(std::string& out, std::int64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// True when a byte of `word` may be < 0x20, '"' or '\\' (bit tricks that test 8 bytes at
// once; a false positive only costs the slow path).
bool MayNeedEscape(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  auto has_zero_byte = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const std::uint64_t below_space = (word - kOnes * 0x20) & ~word & kHigh;
  return (below_space | has_zero_byte(word ^ (kOnes * '"')) |
          has_zero_byte(word ^ (kOnes * '\\'))) != 0;
}

// AppendJsonString, with a fast path for the common string that needs no escape: one copy
// instead of a branch per byte. Verify spends much of its own time here.
void AppendString(std::string& out, std::string_view text) {
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, sizeof word);
    if (MayNeedEscape(word)) return AppendJsonString(out, text);
  }
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) < 0x20 || c == '"' || c == '\\') {
      return AppendJsonString(out, text);
    }
  }
  out.push_back('"');
  out.append(text);
  out.push_back('"');
}

// Empty strings are null in every encoding.
void AppendNullable(std::string& out, std::string_view text) {
  if (text.empty()) {
    out += "null";
  } else {
    AppendString(out, text);
  }
}

void AppendDigits(char* at, int value, int count) {
  for (int i = count - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Writes "YYYY-MM-DD" (10 characters) for a day counted from 1970-01-01, years 0000-9999.
void FormatDate(std::int64_t days, char* text);

// Fetched once: an explicit fetch avoids OpenSSL 3's implicit lookup on every digest.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

Status CheckValue(const boost::json::value& value, std::string_view field) {
  switch (value.kind()) {
    case boost::json::kind::double_:
      return Status::InvalidArgument(std::string(field) +
                                     ": floating-point numbers are not allowed, use integers "
                                     "or strings");
    case boost::json::kind::object:
      for (const auto& member : value.get_object()) {
        if (Status status = CheckValue(member.value(), field); !status.ok()) return status;
      }
      return Status::Ok();
    case boost::json::kind::array:
      for (const auto& element : value.get_array()) {
        if (Status status = CheckValue(element, field); !status.ok()) return status;
      }
      return Status::Ok();
    default:
      return Status::Ok();
  }
}

}  // namespace

EventView ViewOf(const Event& e) {
  EventView view;
  view.position = e.position;
  view.prev_hash = e.prev_hash;
  view.id = e.id;
  view.stream = e.stream;
  view.version = e.version;
  view.type = e.type;
  view.tenant = e.tenant;
  view.actor = e.actor;
  view.subject = e.subject;
  view.occurred_at = e.occurred_at;
  view.recorded_at = e.recorded_at;
  view.command_id = e.command_id;
  view.correlation_id = e.correlation_id;
  view.source_ip = e.source.ip;
  view.source_user_agent = e.source.user_agent;
  view.source_token = e.source.token;
  view.data = e.data;
  view.format = e.format;
  return view;
}

// Keys in byte order; the literal key text below is part of the format.
void AppendCanonicalBytes(std::string& out, const EventView& e) {
  out += "{\"actor\":";
  AppendString(out, e.actor);
  out += ",\"command_id\":";
  AppendNullable(out, e.command_id);
  out += ",\"correlation_id\":";
  AppendNullable(out, e.correlation_id);
  out += ",\"data\":";
  out += e.data;
  out += ",\"format\":";
  AppendInt(out, e.format);
  out += ",\"id\":";
  AppendString(out, e.id);
  out += ",\"occurred_at\":\"";
  AppendTime(out, e.occurred_at);
  out += "\",\"position\":";
  AppendInt(out, e.position);
  out += ",\"prev_hash\":\"";
  out += e.prev_hash;  // hex digits: nothing to escape
  out += "\",\"recorded_at\":\"";
  AppendTime(out, e.recorded_at);
  out += "\",\"source\":{\"ip\":";
  AppendNullable(out, e.source_ip);
  if (HasSourceToken(e.format)) {
    out += ",\"token\":";
    AppendNullable(out, e.source_token);
  }
  out += ",\"user_agent\":";
  AppendNullable(out, e.source_user_agent);
  out += "},\"stream\":";
  AppendString(out, e.stream);
  out += ",\"subject\":";
  AppendNullable(out, e.subject);
  out += ",\"tenant\":";
  AppendString(out, e.tenant);
  out += ",\"type\":";
  AppendString(out, e.type);
  out += ",\"version\":";
  AppendInt(out, e.version);
  out += '}';
}

bool Sha256(std::string_view bytes, Digest* out) {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  const EVP_MD* md = Sha256Md();
  unsigned int size = 0;
  return ctx != nullptr && md != nullptr && EVP_DigestInit_ex2(ctx.get(), md, nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size()) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), out->data(), &size) == 1 && size == out->size();
}

void ToHex(const Digest& digest, char* out) {
  for (std::size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kHexDigits[digest[i] >> 4];
    out[2 * i + 1] = kHexDigits[digest[i] & 0xf];
  }
}

std::string ToHex(const Digest& digest) {
  std::string hex(digest.size() * 2, '0');
  ToHex(digest, hex.data());
  return hex;
}

bool FromHex(std::string_view hex, Digest* out) {
  if (hex.size() != out->size() * 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out->size(); ++i) {
    const int high = nibble(hex[2 * i]);
    const int low = nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    (*out)[i] = static_cast<unsigned char>(high << 4 | low);
  }
  return true;
}

void AppendTime(std::string& out, TimeMs time) {
  if (time < kMinTime || time > kMaxTime) {
    out += FormatTime(time);
    return;
  }
  constexpr std::int64_t kDayMs = 86400000;
  std::int64_t days = time / kDayMs;
  std::int64_t ms = time % kDayMs;
  if (ms < 0) {
    ms += kDayMs;
    --days;
  }
  char text[] = "0000-00-00T00:00:00.000Z";
  // Consecutive events are nearly always of the same day: reuse its date (verify formats two
  // times per event).
  thread_local std::int64_t cached_days = INT64_MIN;
  thread_local char cached_date[10];
  if (days != cached_days) {
    FormatDate(days, cached_date);
    cached_days = days;
  }
  std::memcpy(text, cached_date, sizeof cached_date);
  AppendDigits(text + 11, static_cast<int>(ms / 3600000), 2);
  AppendDigits(text + 14, static_cast<int>(ms / 60000 % 60), 2);
  AppendDigits(text + 17, static_cast<int>(ms / 1000 % 60), 2);
  AppendDigits(text + 20, static_cast<int>(ms % 1000), 3);
  out.append(text, sizeof text - 1);
}

namespace {

void FormatDate(std::int64_t days, char* text) {
  // Civil date from days since 1970-01-01 (the proleptic Gregorian algorithm of
  // chrono::year_month_day).
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  const int year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));

  AppendDigits(text, year, 4);
  text[4] = '-';
  AppendDigits(text + 5, month, 2);
  text[7] = '-';
  AppendDigits(text + 8, day, 2);
}

}  // namespace

Result<std::string> CanonicalObject(const boost::json::value& value, std::string_view field) {
  if (!value.is_object()) return Status::InvalidArgument(std::string(field) + ": not an object");
  if (Status status = CheckValue(value, field); !status.ok()) return status;
  try {
    return CanonicalJson(value);
  } catch (const std::exception& e) {  // only allocation can fail here
    return Status::InvalidArgument(std::string(field) + ": " + e.what());
  }
}

Result<std::string> CanonicalObject(std::string_view json, std::string_view field) {
  try {
    boost::system::error_code error;
    const boost::json::value value = boost::json::parse(json, error);
    if (error) return Status::InvalidArgument(std::string(field) + ": " + error.message());
    return CanonicalObject(value, field);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(field) + ": " + e.what());
  }
}

}  // namespace custody::eventstore
