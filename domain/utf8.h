#pragma once

// UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates, nothing above U+10FFFF.

#include <cstddef>
#include <string>
#include <string_view>

namespace custody {

// The length of the well-formed sequence at the start of `text` (1 to 4); 0 when `text` is
// empty or does not start with one.
std::size_t Utf8SequenceLength(std::string_view text);

bool IsValidUtf8(std::string_view text);

// Whether `text` holds a control character (C0, DEL, or C1, which includes U+0085 NEL) or one
// of Unicode's line and paragraph separators (U+2028, U+2029): anything that may break a line
// or a terminal in a log, a listing or a CSV file.
bool HasControlCharacter(std::string_view text);

// `text` with each byte that does not belong to a well-formed sequence replaced by U+FFFD.
std::string ToValidUtf8(std::string_view text);

// Whether `a` and `b` are the same text but for letter case, through Unicode's simple
// lower-case mapping (Ë = ë, Ω = ω, Д = д; not ß = SS, which changes the length). Bytes outside
// well-formed sequences compare as themselves. The tables are those of the C library's C.UTF-8
// locale; on a system without it, only ASCII letters fold.
bool EqualIgnoringCase(std::string_view a, std::string_view b);

}  // namespace custody
